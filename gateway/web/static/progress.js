// Where a check stands, in the page's words: the stage with its counts, from a shipment body.
(function () {
  "use strict";
  window.gatewayStage = function (body, words) {
    if (body.status === "done" || body.status === "rejected") {
      return words["status_" + body.status] || body.status;
    }
    const stage = body.stage;
    if (!stage || !words["stage_" + stage.stage]) {
      return body.status === "received" ? words.waiting : (words["status_" + body.status] || body.status);
    }
    return words["stage_" + stage.stage]
      .replace("{done}", String(stage.done || 0))
      .replace("{total}", String(stage.total || 0));
  };
})();
