// Live countdowns for one-time codes: how long the code stays valid, and when a new one
// may be requested. Works without it too: the server renders the same facts as text.
(function () {
  "use strict";
  function fmt(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function left(iso) {
    return Math.max(0, Math.ceil((Date.parse(iso) - Date.now()) / 1000));
  }
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var n = left(el.getAttribute("data-countdown"));
      var timer = el.querySelector(".timer");
      if (n > 0 && timer) { timer.textContent = fmt(n); }
      else if (n === 0 && !el.classList.contains("expired")) {
        el.textContent = el.getAttribute("data-expired-text"); el.classList.add("expired");
        // The only way on is a new code: show its button instead of hiding it under a summary.
        document.querySelectorAll("details.resend").forEach(function (d) { d.open = true; });
      }
    });
    document.querySelectorAll("[data-available-at]").forEach(function (btn) {
      if (!btn.dataset.label) { btn.dataset.label = btn.textContent; }
      var n = left(btn.getAttribute("data-available-at"));
      btn.disabled = n > 0;
      btn.textContent = n > 0 ? btn.getAttribute("data-wait-text") + " " + fmt(n) : btn.dataset.label;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
  });
})();
