// Listen / whisper / barge: the agents talking to callers (polled from the server every
// few seconds) with a button per mode; a click rings the supervisor's own phone, which
// then joins the agent's call. Every value from the server is inserted with textContent.
(function () {
  "use strict";

  var root = document.getElementById("monitor");
  if (!root) { return; }
  var text = JSON.parse(document.getElementById("calls-i18n").textContent);
  var body = document.querySelector("#monitor-calls tbody");
  var empty = document.getElementById("monitor-empty");
  var status = document.getElementById("monitor-status");
  var MODES = ["listen", "whisper", "barge"];
  var shown = null;  // what the table shows, so an unchanged poll leaves the buttons be

  function t(key, values) {
    var s = text[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split("{" + k + "}").join(values[k]); });
    return s;
  }

  var cell = window.HotlineLive.cell;

  function start(call, mode) {
    status.textContent = "";
    fetch(root.getAttribute("data-monitor-path"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({
        agent_user_id: call.agent_user_id, channel: call.channel, mode: mode, linkedid: call.linkedid
      })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) {
          status.setAttribute("data-state", "ringing");
          status.textContent = t("mon_ringing", { mode: t("mon_" + mode) });
        } else {
          status.setAttribute("data-state", "failed");
          status.textContent = t("mon_failed", { message: data.message || response.status });
        }
      });
    }, function (error) {
      status.setAttribute("data-state", "failed");
      status.textContent = t("mon_failed", { message: error.message });
    });
  }

  function row(call, canMonitor) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-linkedid", call.linkedid);
    cell(tr, call.agent, "agent");
    cell(tr, call.queue, "queue");
    var since = cell(tr, "", "since");
    var time = document.createElement("time");
    time.setAttribute("datetime", call.since);
    time.textContent = new Date(call.since).toLocaleTimeString();
    since.appendChild(time);
    var actions = cell(tr, "", "actions");
    MODES.forEach(function (mode) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "mon-" + mode;
      button.textContent = t("mon_" + mode);
      button.disabled = !canMonitor;
      button.addEventListener("click", function () { start(call, mode); });
      actions.appendChild(button);
    });
    return tr;
  }

  function refresh() {
    fetch(root.getAttribute("data-calls-path"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { return null; }
      return response.json();
    }).then(function (data) {
      if (!data) { return; }
      var signature = JSON.stringify(data);
      if (signature === shown) { return; }
      shown = signature;
      var fragment = document.createDocumentFragment();
      data.calls.forEach(function (call) { fragment.appendChild(row(call, data.monitor)); });
      body.replaceChildren(fragment);
      empty.hidden = data.calls.length > 0;
    }, function () { /* the next poll tries again */ });
  }

  refresh();
  window.setInterval(refresh, 3000);
}());
