// Times in the reader's own time zone: every <time datetime="..."> is shown in local time,
// with the UTC time it was written as in its tooltip.
(function () {
  "use strict";
  const lang = document.documentElement.lang || "en";
  const format = new Intl.DateTimeFormat(lang, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  });
  window.gatewayLocalTimes = function (root) {
    (root || document).querySelectorAll("time[datetime]").forEach(function (el) {
      const when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) { return; }
      if (!el.title) { el.title = el.textContent; }
      el.textContent = format.format(when);
    });
  };
  window.gatewayLocalTimes();
})();
