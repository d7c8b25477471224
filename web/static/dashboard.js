// Souk cooperative dashboard: photo uploads with a progress bar. Without
// this file the form posts as it is and the page comes back (303).
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var bar = form.querySelector("[data-progress]");
    var status = form.querySelector("[data-upload-status]");
    if (!input || !bar || !window.FormData || !window.XMLHttpRequest) return;
    form.dataset.enhanced = "1";
    form.addEventListener("submit", function (e) {
      if (!input.files || input.files.length === 0) return; // let the server say what is missing
      e.preventDefault();
      var files = Array.prototype.slice.call(input.files);
      var token = form.querySelector("input[name=csrf_token]").value;
      var total = files.reduce(function (n, f) { return n + f.size; }, 0) || 1;
      var done = 0;
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      bar.hidden = false;
      // One photo per request, so that each stays under the body limit
      // and a bad one does not lose the others.
      (function next(i) {
        if (i === files.length) {
          window.location.assign(form.dataset.done);
          return;
        }
        var data = new FormData();
        data.append("csrf_token", token);
        data.append("file", files[i]);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.setRequestHeader("X-CSRF-Token", token);
        xhr.upload.addEventListener("progress", function (ev) {
          if (ev.lengthComputable) bar.value = Math.round(100 * (done + ev.loaded * files[i].size / ev.total) / total);
        });
        status.textContent = (form.dataset.sending || "…") + " " + (i + 1) + "/" + files.length;
        xhr.addEventListener("load", function () {
          if (xhr.status >= 200 && xhr.status < 300) {
            done += files[i].size;
            bar.value = Math.round(100 * done / total);
            next(i + 1);
            return;
          }
          // The server's page says what went wrong, in the visitor's language.
          document.open();
          document.write(xhr.responseText);
          document.close();
        });
        xhr.addEventListener("error", function () { form.submit(); });
        xhr.send(data);
      })(0);
    });
  });
})();
