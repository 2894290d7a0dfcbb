// certwatch console: live updates of the events page from /console/events/stream (Server-Sent
// Events). The pages work without this script; it only adds new events as they are committed.
"use strict";

(function () {
  var table = document.getElementById("events");
  if (!table || !table.dataset.stream || typeof EventSource === "undefined") { return; }
  var body = table.tBodies[0];
  var wantedType = table.dataset.type || "";
  var wantedOrder = table.dataset.order || "";
  var status = document.getElementById("live-status");
  // The type filter's options carry each type's bilingual label.
  var labels = {};
  Array.prototype.forEach.call(document.querySelectorAll("#type option"), function (option) {
    if (option.value) { labels[option.value] = option.textContent; }
  });

  // Unix seconds as the server writes them: China Standard Time (UTC+8), "2024-12-14 17:38:02".
  function chinaTime(seconds) {
    if (typeof seconds !== "number") { return ""; }
    return new Date((seconds + 8 * 3600) * 1000).toISOString().slice(0, 19).replace("T", " ");
  }
  var source = new EventSource(table.dataset.stream);

  function cell(row, text) {
    var td = document.createElement("td");
    if (text instanceof Node) { td.appendChild(text); } else { td.textContent = text; }
    row.appendChild(td);
    return td;
  }

  function add(message) {
    var event;
    try { event = JSON.parse(message.data); } catch (error) { return; }
    var watch = (event.data && event.data.watch) || {};
    if (wantedType && event.type !== wantedType) { return; }
    if (wantedOrder && watch.order_id !== wantedOrder) { return; }
    var empty = body.querySelector("tr.empty");
    if (empty) { empty.remove(); }
    var row = document.createElement("tr");
    row.className = "fresh";
    row.dataset.sequence = message.lastEventId;
    cell(row, message.lastEventId);
    cell(row, chinaTime(event.timeunix));
    var badge = document.createElement("span");
    badge.className = "badge type";
    badge.textContent = labels[event.type] || event.type;
    cell(row, badge);
    var link = document.createElement("a");
    link.href = "/console/watches/" + encodeURIComponent(watch.id || "");
    link.textContent = watch.order_id || watch.id || "";
    cell(row, link);
    var code = document.createElement("code");
    code.textContent = event.subject || "";
    cell(row, code);
    cell(row, "");
    body.insertBefore(row, body.firstChild);
  }

  (table.dataset.types || "").split(" ").forEach(function (type) {
    if (type) { source.addEventListener(type, add); }
  });
  source.onopen = function () { if (status) { status.hidden = false; } };
  source.onerror = function () { if (status) { status.hidden = true; } };
})();
