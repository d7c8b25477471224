// Souk: a little enhancement; every page works without it.
(function () {
  "use strict";
  // Filter forms submit as soon as a choice changes.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (e) {
      if (e.target.matches("select, input[type=checkbox], input[type=radio]")) {
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    });
  });
  // Gallery: a thumbnail shows its photo in the main frame instead of
  // opening the picture on its own.
  document.querySelectorAll("[data-gallery]").forEach(function (gallery) {
    var main = gallery.querySelector(".main img");
    if (!main) return;
    gallery.querySelectorAll(".thumbs a").forEach(function (a) {
      a.addEventListener("click", function (e) {
        e.preventDefault();
        main.srcset = a.dataset.srcset;
        main.src = a.dataset.src;
        main.width = +a.dataset.width;
        main.height = +a.dataset.height;
        main.alt = a.dataset.alt;
        gallery.querySelectorAll(".thumbs a[aria-current]").forEach(function (o) { o.removeAttribute("aria-current"); });
        a.setAttribute("aria-current", "true");
      });
    });
  });
})();
