// Shipment page: while it is being checked, show the stage with its counts and reload when it
// is final; once checked, corrected documents can be uploaded for a re-check.
(function () {
  "use strict";
  const card = document.getElementById("shipment");
  const status = card.dataset.status;
  const words = JSON.parse(document.getElementById("words").textContent);
  const csrfTag = document.querySelector('meta[name="csrf-token"]');

  const form = document.getElementById("recheck-form");
  if (form) {
    const result = document.getElementById("recheck-result");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      const input = document.getElementById("recheck-files");
      if (!input.files.length) { result.className = "error"; result.textContent = words.choose; return; }
      const data = new FormData();
      Array.from(input.files).forEach(function (f) { data.append("documents", f, f.name); });
      result.className = ""; result.textContent = words.uploading;
      fetch(form.dataset.url, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrfTag ? csrfTag.content : "" },
      }).then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); })
        .then(function (pair) {
          if (pair[0] !== 202) {
            result.className = "error";
            result.textContent = pair[1].error ? pair[1].error.message : words.failed.replace("{status}", pair[0]);
            return;
          }
          window.location.href = window.location.pathname;  // the page follows the new check
        })
        .catch(function () { result.className = "error"; result.textContent = words.interrupted; });
    });
  }

  if (status === "done" || status === "rejected") { return; }
  const bar = document.getElementById("job-progress");
  const label = document.getElementById("status");
  const stage = document.getElementById("stage");
  function poll() {
    fetch(card.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        bar.value = body.progress || 0;
        label.textContent = words["status_" + body.status] || body.status;
        stage.textContent = "· " + window.gatewayStage(body, words);
        if (body.status === "done" || body.status === "rejected") { window.location.reload(); return; }
        setTimeout(poll, 700);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
