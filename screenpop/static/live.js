// The consoles' live socket (supervisors' pages): connect, show the state in a status
// element, reconnect with back-off, and stop for good on 4401 / 4403 (signed out, not
// allowed). Every connection starts with the whole state, so nothing is missed.
(function () {
  "use strict";

  // options: path, status (element), text (messages), keys {connecting, connected,
  // disconnected, signedOut}, onMessage(parsed JSON).
  function connectLive(options) {
    var retryDelay = 1000;
    var socket = null;
    var stopped = false;

    function setStatus(state, key) {
      options.status.setAttribute("data-state", state);
      options.status.textContent = options.text[key] || key;
    }

    function connect() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var keys = options.keys;
      setStatus(socket ? "disconnected" : "connecting", socket ? keys.disconnected : keys.connecting);
      socket = new WebSocket(scheme + location.host + options.path);
      socket.addEventListener("open", function () {
        retryDelay = 1000;
        setStatus("connected", keys.connected);
      });
      socket.addEventListener("message", function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (e) { return; }
        options.onMessage(message);
      });
      socket.addEventListener("close", function (event) {
        if (event.code === 4401 || event.code === 4403) {
          stopped = true;
          setStatus("signed-out", keys.signedOut);
          return;
        }
        if (stopped) { return; }
        setStatus("disconnected", keys.disconnected);
        // Back off (1 s, 2 s, 4 s … 15 s, with jitter).
        var delay = retryDelay * (0.75 + Math.random() / 2);
        retryDelay = Math.min(retryDelay * 2, 15000);
        window.setTimeout(connect, delay);
      });
    }

    window.addEventListener("pagehide", function () { stopped = true; if (socket) { socket.close(); } });
    connect();
  }

  window.HotlineLive = { connect: connectLive };
}());
