// The wallboard: renders the board the server sends over /ws/wallboard (whole board per
// message) and ticks its clocks every second in the browser; the server sends only when
// something changed. Every value from the server is inserted with textContent.
(function () {
  "use strict";

  var root = document.getElementById("wallboard");
  if (!root) { return; }
  var text = JSON.parse(document.getElementById("wb-i18n").textContent);
  var status = document.getElementById("wb-status");
  var queuesBox = document.getElementById("wb-queues");
  var agentsBody = document.querySelector("#wb-agents tbody");
  var callsBody = document.querySelector("#wb-calls tbody");

  function t(key, values) {
    var s = text[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      s = s.split("{" + name + "}").join(String(values[name]));
    });
    return s;
  }

  function el(tag, className, value) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (value != null) { node.textContent = value; }
    return node;
  }

  function seconds(iso) {
    return iso ? Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000)) : 0;
  }

  function clock(total) {
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  // A clock element counts up from data-since; with data-limit it raises an alarm past it.
  function clockNode(tag, className, since, limit) {
    var node = el(tag, className);
    if (since) { node.setAttribute("data-since", since); }
    if (limit != null) { node.setAttribute("data-limit", String(limit)); }
    tickOne(node);
    return node;
  }

  function tickOne(node) {
    var since = node.getAttribute("data-since");
    var total = seconds(since);
    var value = node.querySelector(".value") || node;
    value.textContent = since ? clock(total) : "—";
    var limit = node.getAttribute("data-limit");
    if (limit !== null) {
      var alarm = !!since && total > parseFloat(limit);
      node.setAttribute("data-alarm", alarm ? "true" : "false");
      var tile = node.closest(".wb-queue");
      if (tile) { tile.classList.toggle("alarm-wait", alarm); }
    }
  }

  function figure(label, className) {
    var box = el("div", "wb-figure " + className);
    box.appendChild(el("span", "label", label));
    box.appendChild(el("span", "value"));
    return box;
  }

  function queueTile(q) {
    var tile = el("article", "wb-queue");
    tile.setAttribute("data-queue", q.name);
    tile.setAttribute("aria-label", t("wb_queue") + " " + q.name);
    tile.appendChild(el("h3", null, q.name));

    var waiting = figure(t("wb_waiting"), "waiting big");
    waiting.querySelector(".value").textContent = String(q.waiting);
    tile.appendChild(waiting);

    var longest = figure(t("wb_longest"), "longest big");
    longest.setAttribute("data-limit", String(q.target_s));
    if (q.longest_since) { longest.setAttribute("data-since", q.longest_since); }
    longest.appendChild(el("span", "alarm-label", t("wb_alarm_wait")));
    tile.appendChild(longest);
    tickOne(longest);

    var sl = figure(t("wb_service_level"), "service-level big");
    sl.querySelector(".value").textContent = q.service_level_text;
    sl.setAttribute("data-alarm", q.service_level_low ? "true" : "false");
    sl.appendChild(el("span", "alarm-label", t("wb_alarm_sl")));
    var finished = q.answered + q.abandoned;
    sl.appendChild(el("span", "detail", t("wb_sl_detail", {
      within: q.within_target, finished: finished, target: q.target_s,
      goal: Math.round(q.service_level_goal * 100) + "%"
    })));
    tile.appendChild(sl);
    tile.classList.toggle("alarm-sl", q.service_level_low);

    var answered = figure(t("wb_answered"), "answered");
    answered.querySelector(".value").textContent = String(q.answered);
    tile.appendChild(answered);
    var abandoned = figure(t("wb_abandoned"), "abandoned");
    abandoned.querySelector(".value").textContent = String(q.abandoned);
    tile.appendChild(abandoned);
    var available = figure(t("wb_available"), "available");
    available.querySelector(".value").textContent = String(q.available);
    available.appendChild(el("span", "detail", t("wb_staffed", { n: q.staffed })));
    tile.appendChild(available);
    return tile;
  }

  function agentRow(a) {
    var row = el("tr");
    row.setAttribute("data-agent", a.id);
    row.appendChild(el("th", "agent", a.id)).setAttribute("scope", "row");
    var state = el("td", "state", a.pause_reason ? a.state_label + " · " + a.pause_reason : a.state_label);
    state.setAttribute("data-state", a.state);
    row.appendChild(state);
    row.appendChild(clockNode("td", "in-state", a.state === "logged_out" ? null : a.since, null));
    row.appendChild(el("td", "handled", String(a.handled)));
    return row;
  }

  function callRow(c) {
    var row = el("tr");
    row.setAttribute("data-call", c.id);
    row.appendChild(el("td", "queue", c.queue));
    row.appendChild(el("td", "agent", c.agent));
    var phase = el("td", "phase", c.phase_label);
    phase.setAttribute("data-phase", c.phase);
    row.appendChild(phase);
    row.appendChild(clockNode("td", "for", c.since, null));
    return row;
  }

  function render(board) {
    document.getElementById("wb-no-acd").hidden = board.acd_running;
    var tiles = document.createDocumentFragment();
    board.queues.forEach(function (q) { tiles.appendChild(queueTile(q)); });
    queuesBox.replaceChildren(tiles);
    var rows = document.createDocumentFragment();
    board.agents.forEach(function (a) { rows.appendChild(agentRow(a)); });
    agentsBody.replaceChildren(rows);
    rows = document.createDocumentFragment();
    board.calls.forEach(function (c) { rows.appendChild(callRow(c)); });
    callsBody.replaceChildren(rows);
    document.getElementById("wb-agents-empty").hidden = board.agents.length > 0;
    document.getElementById("wb-calls-empty").hidden = board.calls.length > 0;
    root.setAttribute("data-updated", String(Date.now()));
  }

  window.setInterval(function () {
    var clocks = root.querySelectorAll("[data-since], [data-limit]");
    for (var i = 0; i < clocks.length; i++) { tickOne(clocks[i]); }
  }, 1000);

  render(JSON.parse(document.getElementById("wb-initial").textContent));
  window.HotlineLive.connect({
    path: root.getAttribute("data-ws-path"),
    status: status,
    text: text,
    keys: { connecting: "wb_live_connecting", connected: "wb_live_connected",
            disconnected: "wb_live_disconnected", signedOut: "wb_live_signed_out" },
    onMessage: function (message) { if (message.type === "wallboard") { render(message); } }
  });
}());
