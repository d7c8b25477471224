// Souk administration: the unit shape editor redraws the unit on the plan
// as its fields change (without JavaScript, "Preview" redraws it on the
// server), and shows only the fields of the chosen kind.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  document.querySelectorAll("form[data-shape-editor]").forEach(function (form) {
    var g = document.querySelector('svg.admin-plan g.editing[data-unit="' + form.dataset.unit + '"]');
    if (!g) return;
    var field = function (n) { return form.elements.namedItem(n); };
    var num = function (n) { var v = parseInt(field(n).value, 10); return isNaN(v) ? null : v; };
    function redraw() {
      var kind = field("kind").value;
      form.querySelector(".shape-rect").hidden = kind !== "rect";
      field("points").closest(".field").hidden = kind !== "polygon";
      var label = g.querySelector("text");
      var old = g.querySelector("rect, polygon");
      var shape, cx, cy;
      if (kind === "rect") {
        var x = num("x"), y = num("y"), w = num("w"), h = num("h");
        if (x === null || y === null || w === null || h === null) return;
        shape = document.createElementNS(SVG, "rect");
        shape.setAttribute("x", x); shape.setAttribute("y", y);
        shape.setAttribute("width", Math.max(w, 0)); shape.setAttribute("height", Math.max(h, 0));
        shape.setAttribute("rx", 6);
        cx = x + w / 2; cy = y + h / 2;
      } else {
        var pts = field("points").value.trim().split(/\s+/).map(function (p) { return p.split(",").map(Number); })
          .filter(function (p) { return p.length === 2 && !isNaN(p[0]) && !isNaN(p[1]); });
        if (pts.length < 3) return;
        shape = document.createElementNS(SVG, "polygon");
        shape.setAttribute("points", pts.map(function (p) { return p.join(","); }).join(" "));
        cx = pts.reduce(function (s, p) { return s + p[0]; }, 0) / pts.length;
        cy = pts.reduce(function (s, p) { return s + p[1]; }, 0) / pts.length;
      }
      if (old) g.replaceChild(shape, old); else g.insertBefore(shape, label);
      if (label) { label.setAttribute("x", Math.round(cx)); label.setAttribute("y", Math.round(cy) + 8); }
    }
    form.addEventListener("input", redraw);
    form.addEventListener("change", redraw);
    redraw();
  });
})();
