// Report page: while the shipment is being checked, poll and reload when it is final.
(function () {
  "use strict";
  const card = document.getElementById("shipment");
  const status = card.dataset.status;
  if (status === "done" || status === "rejected") { return; }
  const bar = document.getElementById("job-progress");
  const label = document.getElementById("status");
  const words = JSON.parse(document.getElementById("words").textContent);
  function poll() {
    fetch(card.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        bar.value = body.progress || 0; label.textContent = words["status_" + body.status] || body.status;
        if (body.status === "done" || body.status === "rejected") { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
