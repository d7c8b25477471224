// Souk, the artisan's pages: a little help; every page works without it.
(function () {
  "use strict";
  // A print button where a page is meant for paper (receipts, invoices).
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  // The last day follows the first: never before it.
  document.querySelectorAll("form[data-range]").forEach(function (form) {
    var from = form.querySelector("input[type=date][id=from]");
    var to = form.querySelector("input[type=date][id=to]");
    if (!from || !to) return;
    var sync = function () {
      if (!from.value) return;
      to.min = from.value;
      if (!to.value || to.value < from.value) to.value = from.value;
    };
    from.addEventListener("change", sync);
    sync();
  });
})();
