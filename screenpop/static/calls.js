// Live calls: keeps the two tables current from /ws/calls. No framework, no build step.
// Every value from the server is inserted with textContent (never as HTML).
(function () {
  "use strict";

  var root = document.getElementById("live-calls");
  if (!root) { return; }
  var text = JSON.parse(document.getElementById("calls-i18n").textContent);
  var status = document.getElementById("live-status");
  var activeBody = document.querySelector("#active-calls tbody");
  var endedBody = document.querySelector("#ended-calls tbody");
  var activeEmpty = document.getElementById("active-empty");
  var endedEmpty = document.getElementById("ended-empty");
  var activeCount = document.getElementById("active-count");
  var endedLimit = parseInt(root.getAttribute("data-ended-limit"), 10) || 50;

  var cell = window.HotlineLive.cell;

  function timeCell(row, iso, display) {
    var td = document.createElement("td");
    if (iso) {
      var time = document.createElement("time");
      time.setAttribute("datetime", iso);
      time.textContent = display;
      td.appendChild(time);
    } else {
      td.textContent = text.not_yet || "—";
    }
    row.appendChild(td);
  }

  function buildRow(call, ended) {
    var row = document.createElement("tr");
    row.setAttribute("data-linkedid", call.linkedid);
    row.setAttribute("data-arrived-at", call.arrived_at);
    cell(row, call.number, call.withheld ? "number withheld" : "number");
    var patient = cell(row, call.patient_name || text.patient_unknown || "—", "patient");
    if (!ended) {
      // A supervisor opens the call's screen pop read-only (audited; 404 before the offer).
      var link = document.createElement("a");
      link.href = "/supervisor/calls/" + encodeURIComponent(call.linkedid) + "/pop";
      link.textContent = patient.textContent;
      patient.textContent = "";
      patient.appendChild(link);
    }
    cell(row, call.direction_label, "direction");
    timeCell(row, call.arrived_at, call.arrived);
    timeCell(row, call.answered_at, call.answered);
    if (ended) { timeCell(row, call.ended_at, call.ended); }
    cell(row, ended ? call.duration : elapsed(call.arrived_at), "duration");
    if (ended) { cell(row, call.cause, "cause"); }
    return row;
  }

  function elapsed(iso) {
    var seconds = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function findRow(body, linkedid) {
    var rows = body.rows;
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-linkedid") === linkedid) { return rows[i]; }
    }
    return null;
  }

  function refreshCounts() {
    activeEmpty.hidden = activeBody.rows.length > 0;
    endedEmpty.hidden = endedBody.rows.length > 0;
    activeCount.textContent = "(" + activeBody.rows.length + ")";
  }

  function upsert(call) {
    var row = buildRow(call, false);
    var existing = findRow(activeBody, call.linkedid);
    if (existing) {
      activeBody.replaceChild(row, existing);
    } else {
      row.className = "fresh";
      // Oldest first: insert before the first row that arrived later.
      var before = null;
      for (var i = 0; i < activeBody.rows.length; i++) {
        if (activeBody.rows[i].getAttribute("data-arrived-at") > call.arrived_at) {
          before = activeBody.rows[i];
          break;
        }
      }
      activeBody.insertBefore(row, before);
    }
  }

  function ended(call) {
    var existing = findRow(activeBody, call.linkedid);
    if (existing) { activeBody.removeChild(existing); }
    var old = findRow(endedBody, call.linkedid);
    if (old) { endedBody.removeChild(old); }
    var row = buildRow(call, true);
    row.className = "fresh";
    endedBody.insertBefore(row, endedBody.firstChild);
    while (endedBody.rows.length > endedLimit) { endedBody.deleteRow(-1); }
  }

  function snapshot(message) {
    endedLimit = message.ended_limit || endedLimit;
    var fragment = document.createDocumentFragment();
    message.active.forEach(function (call) { fragment.appendChild(buildRow(call, false)); });
    activeBody.replaceChildren(fragment);
    fragment = document.createDocumentFragment();
    message.ended.forEach(function (call) { fragment.appendChild(buildRow(call, true)); });
    endedBody.replaceChildren(fragment);
  }

  function onMessage(message) {
    if (message.type === "snapshot") { snapshot(message); }
    else if (message.type === "upsert") { upsert(message.call); }
    else if (message.type === "ended") { ended(message.call); }
    refreshCounts();
  }

  window.setInterval(function () {
    for (var i = 0; i < activeBody.rows.length; i++) {
      var row = activeBody.rows[i];
      var td = row.querySelector("td.duration");
      if (td) { td.textContent = elapsed(row.getAttribute("data-arrived-at")); }
    }
  }, 1000);

  refreshCounts();
  window.HotlineLive.connect({
    path: root.getAttribute("data-ws-path"),
    status: status,
    text: text,
    keys: { connecting: "live_connecting", connected: "live_connected",
            disconnected: "live_disconnected", signedOut: "live_signed_out" },
    onMessage: onMessage
  });
}());
