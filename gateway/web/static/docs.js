// API docs page: lists the OpenAPI document's operations (text only, no HTML injection).
(function () {
  "use strict";
  const target = document.getElementById("endpoints");
  fetch(target.dataset.spec).then(function (r) { return r.json(); }).then(function (spec) {
    target.textContent = "";
    Object.keys(spec.paths).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        const op = spec.paths[path][method];
        const div = document.createElement("div"); div.className = "endpoint";
        const m = document.createElement("span"); m.className = "method"; m.textContent = method;
        const p = document.createElement("code"); p.textContent = path;
        const s = document.createElement("p"); s.textContent = op.summary || "";
        const codes = document.createElement("p");
        codes.textContent = "Responses: " + Object.keys(op.responses || {}).join(", ");
        div.append(m, p, s, codes); target.appendChild(div);
      });
    });
  });
})();
