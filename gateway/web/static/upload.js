// Upload page: drag and drop, XHR upload with progress, then poll the shipment's status.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const input = document.getElementById("files");
  const drop = document.getElementById("drop");
  const chosen = document.getElementById("chosen");
  const box = document.getElementById("progress-box");
  const stage = document.getElementById("stage");
  const uploadBar = document.getElementById("upload-progress");
  const jobBar = document.getElementById("job-progress");
  const result = document.getElementById("result");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const words = JSON.parse(document.getElementById("words").textContent);
  let files = [];

  function show() {
    chosen.textContent = "";
    files.forEach(function (f) {
      const li = document.createElement("li");
      li.textContent = f.name + " (" + Math.ceil(f.size / 1024) + " KB)";
      chosen.appendChild(li);
    });
  }
  input.addEventListener("change", function () { files = Array.from(input.files); show(); });
  ["dragenter", "dragover"].forEach(function (n) {
    drop.addEventListener(n, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (n) {
    drop.addEventListener(n, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) { files = files.concat(Array.from(e.dataTransfer.files)); show(); });

  function fail(message) { stage.textContent = message; stage.className = "error"; }

  // Destination: a code or a name in English or Chinese, resolved against the same ISO table
  // the API uses (the API decides; this only shows what the value will be read as).
  const destination = document.getElementById("destination");
  const hint = document.getElementById("destination-hint");
  function fold(text) { return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^0-9a-z\u4e00-\u9fff]+/g, " ").trim(); }
  const byName = {};
  Array.from(document.querySelectorAll("#countries option")).forEach(function (o) {
    byName[fold(o.value)] = o;
    o.dataset.names.split("|").forEach(function (n) { if (!(fold(n) in byName)) { byName[fold(n)] = o; } });
  });
  function resolveDestination() {
    const value = destination.value.trim();
    hint.className = "hint";
    if (!value) { hint.textContent = ""; return; }
    const o = byName[fold(value)];
    if (o) { hint.textContent = "→ " + o.value + " · " + o.label; return; }
    hint.className = "hint unknown";
    hint.textContent = words.unknown_country;
  }
  destination.addEventListener("input", resolveDestination);

  // The new shipment joins the history at once and follows its status there too.
  const historyRows = document.getElementById("history-rows");
  function addHistoryRow(body) {
    if (!historyRows) { return null; }
    const known = document.getElementById("row-" + body.id);
    if (known) { return known; }
    const empty = historyRows.querySelector("td[colspan]");
    if (empty) { empty.parentNode.remove(); }
    const tr = document.createElement("tr");
    tr.id = "row-" + body.id;
    tr.dataset.id = body.id;
    const cells = [];
    for (let i = 0; i < 5; i += 1) { cells.push(document.createElement("td")); tr.appendChild(cells[i]); }
    const a = document.createElement("a");
    a.href = "/shipments/" + body.id;
    a.textContent = body.reference || body.id.slice(0, 12);
    cells[0].appendChild(a);
    cells[1].textContent = body.destination || "";
    const when = document.createElement("time");
    when.setAttribute("datetime", body.created_at);
    when.textContent = body.created_at;
    cells[4].appendChild(when);
    if (window.gatewayLocalTimes) { window.gatewayLocalTimes(tr); }
    historyRows.insertBefore(tr, historyRows.firstChild);
    return tr;
  }
  function showInHistory(row, body) {
    if (!row) { return; }
    row.cells[2].textContent = window.gatewayStage(body, words);
    if (body.verdict) {
      row.cells[3].textContent = words["verdict_" + body.verdict] || body.verdict;
      row.cells[3].className = "verdict-" + body.verdict;
    }
  }
  let historyRow = null;

  function poll(url, page) {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); })
      .then(function (pair) {
        const body = pair[1];
        if (pair[0] !== 200) { fail(body.error ? body.error.message : "HTTP " + pair[0]); return; }
        jobBar.value = body.progress || 0;
        stage.textContent = words.status + ": " + window.gatewayStage(body, words) +
          (body.status === "done" || body.status === "rejected" ? "" : " · " + (body.progress || 0) + " %");
        showInHistory(historyRow, body);
        if (body.status === "done" || body.status === "rejected") {
          const a = document.createElement("a");
          a.href = page; a.id = "open-report";
          a.textContent = body.status === "done" ? words.open + " (" + (words["verdict_" + body.verdict] || body.verdict) + ")" : words.rejected;
          result.textContent = ""; result.appendChild(a);
          return;
        }
        setTimeout(function () { poll(url, page); }, 1000);
      })
      .catch(function () { setTimeout(function () { poll(url, page); }, 3000); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!files.length) { box.classList.remove("hidden"); fail(words.choose); return; }
    const data = new FormData();
    files.forEach(function (f) { data.append("documents", f, f.name); });
    ["reference", "destination", "transport_mode", "notify"].forEach(function (id) {
      const v = document.getElementById(id).value.trim();
      if (v) { data.append(id, v); }
    });
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/shipments");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Idempotency-Key", (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random());
    xhr.setRequestHeader("Accept", "application/json");
    box.classList.remove("hidden"); stage.className = ""; stage.textContent = words.uploading;
    xhr.upload.addEventListener("progress", function (ev) {
      if (ev.lengthComputable) { uploadBar.value = Math.round(100 * ev.loaded / ev.total); }
    });
    xhr.addEventListener("load", function () {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status !== 202) {
        let message = body.error ? body.error.message : words.failed.replace("{status}", xhr.status);
        const details = body.error && body.error.details;
        if (details && typeof details === "object") {
          message += " " + Object.keys(details).map(function (k) { return [].concat(details[k]).join(" "); }).join(" ");
        }
        fail(message);
        return;
      }
      uploadBar.value = 100;
      stage.textContent = words.checking;
      historyRow = addHistoryRow(body);
      showInHistory(historyRow, body);
      poll(body.status_url, "/shipments/" + body.id);
    });
    xhr.addEventListener("error", function () { fail(words.interrupted); });
    xhr.send(data);
  });

  // "Latest shipments" follows every shipment of the account without a reload (uploads from
  // other pages, the API or colleagues too): the first page of an unfiltered history is
  // fetched again every few seconds, new shipments are added and the others updated.
  const history = document.getElementById("history");
  if (historyRows && history && history.dataset.live === "1") {
    const latest = history.dataset.latestUrl;
    const refresh = function () {
      fetch(latest, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (page) {
          if (!page) { return; }
          page.items.slice().reverse().forEach(function (body) {
            let row = document.getElementById("row-" + body.id);
            if (!row) { row = addHistoryRow(body); }
            showInHistory(row, body);
          });
        })
        .catch(function () { return null; })
        .then(function () { setTimeout(refresh, 3000); });
    };
    setTimeout(refresh, 3000);
  }
})();
