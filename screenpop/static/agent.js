// Agent console: the pop from /ws/pops (with reconnect), the agent's own state, and the
// actions on the popped patient through /api/console. No framework, no build step.
// Every value from the server is inserted with textContent (never as HTML).
(function () {
  "use strict";

  var root = document.getElementById("agent-console");
  if (!root) { return; }
  var text = JSON.parse(document.getElementById("console-i18n").textContent);
  var lang = root.getAttribute("data-lang") === "zh" ? "zh" : "en";
  var zone = root.getAttribute("data-zone") || undefined;
  var $ = function (id) { return document.getElementById(id); };
  var pop = null;          // the pop on screen ({call_id, caller, ...}) or null
  var phase = "";          // ringing | answered | ended | withdrawn
  var rescheduling = null; // the reference being moved, when choosing its new slot
  var retryDelay = 1000;
  var stateSince = null;   // when the agent entered their current state (Date) or null

  function t(key, values) {
    var s = text[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split("{" + k + "}").join(values[k]); });
    return s;
  }

  function when(iso) {
    if (!iso) { return ""; }
    return new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", weekday: "short"
    });
  }

  function el(tag, value, className) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (value != null) { node.textContent = value; }
    return node;
  }

  function show(message, ok) {
    var box = $("con-message");
    box.textContent = message;
    box.setAttribute("data-kind", ok ? "ok" : "error");
    box.hidden = false;
  }

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin",
      headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 401) { window.location.href = "/login?next=/console&expired=1"; }
        if (!response.ok) {
          var message = data.message || ("HTTP " + response.status);
          if (data.problems) {
            message += ": " + data.problems.map(function (p) { return p.field + " — " + p.message; }).join("; ");
          }
          throw new Error(message);
        }
        return data;
      });
    });
  }

  function failed(error) { show(t("con_failed", { message: error.message }), false); }

  // -- the agent's state ---------------------------------------------------------------

  function showState(agent) {
    var node = $("agent-state");
    node.setAttribute("data-state", agent && agent.state ? agent.state : "none");
    node.textContent = t("state_" + (agent && agent.state ? agent.state : "none"));
    $("agent-pause-reason").textContent =
      agent && agent.pause_reason ? "(" + t("pause_" + agent.pause_reason) + ")" : "";
    stateSince = agent && agent.since ? new Date(agent.since) : null;
    tick();
  }

  // How long the agent has been in their state (wrap-up above all), every second.
  function tick() {
    var node = $("state-timer");
    if (!stateSince) { node.textContent = ""; return; }
    var s = Math.max(0, Math.floor((Date.now() - stateSince.getTime()) / 1000));
    var text = Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
    node.textContent = t("con_state_for", { time: text });
    node.setAttribute("data-seconds", String(s));
    // The ACD ends a timed wrap-up by itself and does not push it: look every 5 s.
    if (s > 0 && s % 5 === 0 && $("agent-state").getAttribute("data-state") === "wrap_up") {
      refreshState();
    }
  }
  setInterval(tick, 1000);

  function setState(action) {
    var body = { action: action };
    if (action === "pause") { body.reason = $("pause-reason").value; }
    return api("POST", "/api/console/state", body)
      .then(function (data) { showState(data.agent); }, failed);
  }

  // -- the pop ---------------------------------------------------------------------------

  function fact(list, label, value) {
    if (value == null || value === "" || (Array.isArray(value) && !value.length)) { return; }
    list.appendChild(el("dt", label));
    list.appendChild(el("dd", Array.isArray(value) ? value.join(", ") : String(value)));
  }

  function fillTable(id, rows, build) {
    var body = document.querySelector("#" + id + " tbody");
    body.textContent = "";
    rows.forEach(function (row) { body.appendChild(build(row)); });
    if (!rows.length) {
      var tr = el("tr"); var td = el("td", t("con_none"), "empty");
      td.colSpan = 5; tr.appendChild(td); body.appendChild(tr);
    }
  }

  function appointmentRow(a, actions) {
    var tr = el("tr");
    tr.setAttribute("data-reference", a.reference);
    tr.appendChild(el("td", when(a.starts_at)));
    tr.appendChild(el("td", a.department[lang]));
    tr.appendChild(el("td", a.doctor[lang]));
    tr.appendChild(el("td", actions ? a.reference : a.status));
    if (actions) {
      var td = el("td", null, "actions");
      var cancel = el("button", t("con_cancel"));
      cancel.type = "button";
      cancel.addEventListener("click", function () { cancelAppointment(a.reference); });
      var move = el("button", t("con_reschedule"));
      move.type = "button";
      move.addEventListener("click", function () { startReschedule(a.reference); });
      td.appendChild(cancel); td.appendChild(move); tr.appendChild(td);
    }
    return tr;
  }

  function setPhase(next) {
    phase = next;
    var node = $("call-phase");
    node.setAttribute("data-phase", next);
    node.textContent = t("con_" + next);
    if (next !== "answered") { $("recording-controls").hidden = true; }
    else { refreshRecording(); }
  }

  // -- the call's recording: shown while talking; pause/resume where the queue allows ----

  function showRecording(state) {
    $("recording-controls").hidden = !state.recorded || phase !== "answered";
    $("recording-state").setAttribute("data-state", state.paused ? "paused" : "on");
    $("recording-state").textContent = t(state.paused ? "con_rec_paused" : "con_rec_on");
    var button = $("btn-recording");
    button.hidden = !state.pausable;
    button.setAttribute("data-action", state.paused ? "resume" : "pause");
    $("btn-recording-label").textContent = t(state.paused ? "con_rec_resume" : "con_rec_pause");
  }

  function refreshRecording() {
    if (!pop || phase !== "answered") { return; }
    var callId = pop.call_id;
    api("GET", callPath("/recording")).then(function (data) {
      if (pop && pop.call_id === callId) { showRecording(data.recording); }
    }, function () { /* shown again on the next refresh */ });
  }

  function toggleRecording() {
    if (!pop || $("btn-recording").hidden || $("recording-controls").hidden) { return; }
    api("POST", callPath("/recording"), { action: $("btn-recording").getAttribute("data-action") })
      .then(function (data) { showRecording(data.recording); }, failed);
  }

  function showPop(data, answered) {
    pop = data;
    var caller = data.caller;
    $("no-call").hidden = true;
    $("pop").hidden = false;
    $("pop").setAttribute("data-call-id", data.call_id);
    $("caller-name").textContent = caller.known ? caller.name : t("con_unknown");
    $("flag-verified").textContent = t(caller.verified ? "con_verified" : "con_not_verified");
    $("flag-verified").setAttribute("data-verified", caller.verified ? "yes" : "no");
    $("flag-vip").hidden = !caller.vip;
    $("flag-chronic").hidden = !caller.chronic;
    if (answered !== undefined) { setPhase(answered ? "answered" : "ringing"); }
    var facts = $("caller-facts"); facts.textContent = "";
    if (!caller.known) {
      fact(facts, t("con_caller_number"), caller.withheld ? t("con_withheld") : caller.number);
    }
    fact(facts, t("con_mrn"), caller.mrn);
    fact(facts, t("con_born"), caller.date_of_birth);
    fact(facts, t("con_allergies"), caller.allergies);
    fact(facts, t("con_care_notes"), caller.care_notes);
    fact(facts, t("con_queue"), data.queue + " · " + t("con_waited", { s: Math.round(data.waited_s) }));
    var ivr = $("ivr-facts"); ivr.textContent = "";
    fact(ivr, t("con_ivr_reason"), data.ivr.reason);
    fact(ivr, t("con_ivr_intent"), data.ivr.intents);
    fact(ivr, t("con_ivr_heard"), data.ivr.last_heard);
    Object.keys(data.ivr.slots || {}).forEach(function (k) { fact(ivr, k, data.ivr.slots[k]); });
    var known = !!caller.known;
    ["upcoming-part", "book-part", "recent-part", "calls-part", "complaints-part", "complaint-part"]
      .forEach(function (id) { $(id).hidden = !known; });
    $("register-part").hidden = known;
    showLikely(known ? [] : (data.likely_matches || []), known);
    fillTable("upcoming", data.upcoming_appointments || [], function (a) { return appointmentRow(a, true); });
    fillTable("recent", data.recent_appointments || [], function (a) { return appointmentRow(a, false); });
    var calls = $("recent-calls"); calls.textContent = "";
    (data.recent_calls || []).forEach(function (c) {
      var parts = [when(c.arrived_at)];
      if (!c.answered) { parts.push(t("con_call_missed")); }
      if (c.agent) { parts.push(t("con_call_by", { agent: c.agent })); }
      if (c.disposition) { parts.push(t("disp_" + c.disposition)); }
      var item = el("li", parts.join(" · "));
      item.setAttribute("data-linkedid", c.linkedid);
      if (c.notes) { item.appendChild(el("span", c.notes, "call-notes")); }
      calls.appendChild(item);
    });
    if (!calls.children.length) { calls.appendChild(el("li", t("con_none"), "empty")); }
    var complaints = $("open-complaints"); complaints.textContent = "";
    (data.open_complaints || []).forEach(function (c) {
      complaints.appendChild(el("li", c.ticket + " · " + t("cat_" + c.category) + " · " + when(c.created_at)));
    });
    if (!complaints.children.length) { complaints.appendChild(el("li", t("con_none"), "empty")); }
  }

  function showLikely(matches, known) {
    $("likely-part").hidden = known;
    $("likely-none").hidden = known || matches.length > 0;
    $("likely").hidden = !matches.length;
    var body = document.querySelector("#likely tbody");
    body.textContent = "";
    matches.forEach(function (m) {
      var tr = el("tr");
      tr.setAttribute("data-patient-id", String(m.patient_id));
      tr.appendChild(el("td", m.name));
      tr.appendChild(el("td", m.number || ""));
      tr.appendChild(el("td", m.birth_year == null ? "" : String(m.birth_year)));
      tr.appendChild(el("td", t("con_reason_" + m.reason)));
      var td = el("td");
      var button = el("button", t("con_attach"), "primary-inline");
      button.type = "button";
      button.addEventListener("click", function () { attach(m); });
      td.appendChild(button); tr.appendChild(td);
      body.appendChild(tr);
    });
  }

  function attach(match) {
    api("POST", callPath("/attach"), { patient_id: match.patient_id, verified_by: $("verified-by").value })
      .then(function (data) { show(t("con_attached", { name: match.name }), true); showPop(data.pop); }, failed);
  }

  function clearPop() {
    pop = null; rescheduling = null;
    $("pop").hidden = true;
    $("no-call").hidden = false;
  }

  function refreshPop() {
    if (!pop || !pop.caller.known) { return Promise.resolve(); }
    var callId = pop.call_id;
    return api("GET", "/api/console/calls/" + encodeURIComponent(callId) + "/pop")
      .then(function (data) { if (pop && pop.call_id === callId) { showPop(data.pop); } }, failed);
  }

  function callPath(suffix) { return "/api/console/calls/" + encodeURIComponent(pop.call_id) + suffix; }

  // -- actions on the patient --------------------------------------------------------------

  function showSlots() {
    if (!pop) { return; }
    var department = $("department").value;
    api("GET", callPath("/slots?department_id=" + encodeURIComponent(department))).then(function (data) {
      fillTable("slots", data.slots, function (s) {
        var tr = el("tr");
        tr.setAttribute("data-slot-id", String(s.slot_id));
        tr.appendChild(el("td", when(s.starts_at)));
        tr.appendChild(el("td", s.doctor[lang]));
        tr.appendChild(el("td", t("con_places", { n: s.places_left })));
        var td = el("td");
        var button = el("button", rescheduling ? t("con_move_here") : t("con_book"), "primary-inline");
        button.type = "button";
        button.addEventListener("click", function () { chooseSlot(s.slot_id); });
        td.appendChild(button); tr.appendChild(td);
        return tr;
      });
      $("no-slots").hidden = data.slots.length > 0;
    }, failed);
  }

  function chooseSlot(slotId) {
    var request = rescheduling
      ? api("POST", callPath("/appointments/" + encodeURIComponent(rescheduling) + "/reschedule"), { slot_id: slotId })
      : api("POST", callPath("/appointments"), { slot_id: slotId });
    var moving = rescheduling;
    request.then(function (data) {
      rescheduling = null; $("rescheduling").hidden = true;
      show(t(moving ? "con_moved" : "con_booked", { ref: data.appointment.reference }), true);
      return refreshPop().then(showSlots);
    }, failed);
  }

  function cancelAppointment(reference) {
    api("POST", callPath("/appointments/" + encodeURIComponent(reference) + "/cancel"), {})
      .then(function () { show(t("con_cancelled", { ref: reference }), true); return refreshPop(); }, failed);
  }

  function startReschedule(reference) {
    rescheduling = reference;
    var note = $("rescheduling");
    note.textContent = t("con_rescheduling", { ref: reference });
    note.hidden = false;
    showSlots();
    $("department").focus();
  }

  $("show-slots").addEventListener("click", showSlots);

  $("complaint-form").addEventListener("submit", function (event) {
    event.preventDefault();
    api("POST", callPath("/complaints"), {
      category: $("complaint-category").value, description: $("complaint-description").value
    }).then(function (data) {
      show(t("con_ticket", { ticket: data.ticket }), true);
      $("complaint-description").value = "";
      return refreshPop();
    }, failed);
  });

  $("wrap-form").addEventListener("submit", function (event) {
    event.preventDefault();
    api("POST", callPath("/wrap-up"), {
      disposition: $("wrap-disposition").value, notes: $("wrap-notes").value || null
    }).then(function () { show(t("con_wrap_saved"), true); }, failed);
  });

  $("register-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var number = $("register-number").value.trim();
    api("POST", callPath("/patient"), {
      full_name: $("register-name").value, number: number || null
    }).then(function (data) { show(t("con_registered"), true); showPop(data.pop); }, failed);
  });

  // -- state buttons and shortcuts ---------------------------------------------------------

  Array.prototype.forEach.call(document.querySelectorAll(".state-buttons button"), function (b) {
    b.addEventListener("click", function () { setState(b.getAttribute("data-action")); });
  });
  var shortcuts = { a: "available", p: "pause", w: "end_wrap_up", l: "logout" };
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey) { return; }
    var key = event.key.toLowerCase();
    if (shortcuts[key]) { event.preventDefault(); setState(shortcuts[key]); }
    else if (key === "b" && pop) { event.preventDefault(); $("department").focus(); showSlots(); }
    else if (key === "r" && pop) { event.preventDefault(); toggleRecording(); }
    else if (key === "n" && pop) { event.preventDefault(); $("wrap-notes").focus(); }
    else if (key === "m" && pop && !$("likely-part").hidden) { event.preventDefault(); $("verified-by").focus(); }
  });
  $("btn-recording").addEventListener("click", toggleRecording);
  // Recording starts a moment after the answer (once caller and agent are bridged).
  window.setInterval(refreshRecording, 3000);

  // -- the socket ----------------------------------------------------------------------------

  function setStatus(state, key) {
    $("pop-status").setAttribute("data-state", state);
    $("pop-status").textContent = t(key);
  }

  function refreshState() {
    return api("GET", "/api/console/me").then(function (data) { showState(data.agent); }, failed);
  }

  function onMessage(message) {
    if (message.type === "pop") {
      rescheduling = null; $("rescheduling").hidden = true;
      if (!pop || pop.call_id !== message.pop.call_id) { $("wrap-notes").value = ""; }
      $("con-message").hidden = true;
      showPop(message.pop, message.pop.answered);
    } else if (pop && message.call_id === pop.call_id) {
      if (message.type === "answered") { setPhase("answered"); }
      if (message.type === "ended") { setPhase("ended"); }
      if (message.type === "withdrawn") { setPhase("withdrawn"); clearPop(); show(t("con_withdrawn"), false); }
    }
    refreshState();
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-ws-path"));
    setStatus("connecting", "con_live_connecting");
    socket.addEventListener("open", function () { retryDelay = 1000; setStatus("connected", "con_live_connected"); });
    socket.addEventListener("message", function (event) { onMessage(JSON.parse(event.data)); });
    socket.addEventListener("close", function (event) {
      if (event.code === 4401) { window.location.href = "/login?next=/console&expired=1"; return; }
      setStatus("disconnected", "con_live_disconnected");
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    });
  }

  api("GET", "/api/console/me").then(function (data) {
    showState(data.agent);
    var select = $("department");
    data.departments.forEach(function (d) {
      var option = el("option", d[lang]); option.value = String(d.id); select.appendChild(option);
    });
  }, failed);
  connect();
}());
