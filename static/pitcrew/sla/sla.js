/* SLA badges: count down to each running clock's due time and recolour it when a warning or the due time
   passes. Works on badges added later by htmx too, since every tick looks them up again. */
(function () {
  'use strict';
  if (window.pitcrewSlaCountdown) return;
  window.pitcrewSlaCountdown = true;

  var COLOURS = ['green', 'orange', 'red', 'secondary', 'teal'];

  function duration(ms) {
    var seconds = Math.floor(Math.abs(ms) / 1000);
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    var pad = function (n) { return n < 10 ? '0' + n : String(n); };
    if (days) return hours ? days + 'd ' + hours + 'h' : days + 'd';
    if (hours) return hours + 'h ' + pad(minutes) + 'm';
    if (minutes >= 10) return minutes + 'm';
    return minutes ? minutes + 'm ' + pad(secs) + 's' : secs + 's';
  }

  function paint(badge, colour) {
    COLOURS.forEach(function (name) {
      badge.classList.remove('bg-' + name + '-lt');
    });
    badge.classList.add('bg-' + colour + '-lt');
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll('.pc-sla[data-sla-due]').forEach(function (badge) {
      var due = Date.parse(badge.getAttribute('data-sla-due'));
      if (isNaN(due)) return;
      var risk = Date.parse(badge.getAttribute('data-sla-risk') || '');
      var left = due - now;
      var time = badge.querySelector('.pc-sla-time');
      if (time) time.textContent = left >= 0 ? duration(left) + ' left' : 'overdue ' + duration(left);
      var breached = badge.getAttribute('data-sla-state') === 'breached';
      var colour = left < 0 || breached ? 'red' : !isNaN(risk) && now >= risk ? 'orange' : null;
      if (colour) paint(badge, colour);
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
