/* Hypercare dashboard: draws the volume chart (incidents per day in hypercare beside the same day of the weeks
   before) from the JSON data island next to its canvas. No inline scripts, nothing loaded from elsewhere. */
(function () {
  'use strict';

  var COLORS = { orange: '#f76707', gray: '#667382', blue: '#206bc4' };
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  function shortDay(label) {
    var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(label);
    return match ? +match[3] + ' ' + MONTHS[+match[2] - 1] : label;
  }

  function draw(canvas) {
    var holder = document.getElementById(canvas.getAttribute('data-chart'));
    if (!holder || typeof Chart === 'undefined') return;
    var spec = JSON.parse(holder.textContent);
    if (!spec.labels) return;
    new Chart(canvas, {
      data: {
        labels: spec.labels.map(shortDay),
        datasets: spec.datasets.map(function (d) {
          var color = COLORS[d.color] || COLORS.blue;
          return {
            type: d.type, label: d.label, data: d.data, backgroundColor: d.type === 'bar' ? color + 'cc' : color,
            borderColor: color, borderWidth: 2, pointRadius: 2, tension: 0, order: d.type === 'line' ? 0 : 1
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'Incidents' } } },
        plugins: { legend: { position: 'bottom' } }
      }
    });
  }

  document.querySelectorAll('canvas[data-chart]').forEach(draw);
})();
