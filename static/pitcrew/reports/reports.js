/* Pitcrew dashboards: draws the Chart.js charts described by the page (JSON next to each canvas) and makes
   every bar and point a link to the tickets behind it. No inline scripts, nothing loaded from elsewhere. */
(function () {
  'use strict';

  var COLORS = {
    blue: '#206bc4', azure: '#4299e1', green: '#2fb344', teal: '#0ca678', orange: '#f76707',
    red: '#d63939', purple: '#ae3ec9', indigo: '#4263eb', gray: '#667382'
  };

  function withUnit(value, unit) {
    if (value === null || value === undefined) return 'no data';
    if (unit === '%') return value + ' %';
    if (unit === 'h') return value + ' h';
    return value + (unit ? ' ' + unit : '');
  }

  function axis(spec, position, secondary) {
    return {
      position: position,
      beginAtZero: true,
      min: spec.min,
      max: spec.max,
      title: { display: true, text: spec.title + (spec.unit && spec.unit !== 'tickets' && spec.unit !== 'targets' ? ' (' + spec.unit + ')' : '') },
      ticks: {
        precision: spec.integer ? 0 : undefined,
        callback: function (value) { return spec.unit === '%' || spec.unit === 'h' ? withUnit(value, spec.unit) : value; }
      },
      grid: { drawOnChartArea: !secondary }
    };
  }

  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  var MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
    'October', 'November', 'December'];
  var DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  var ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

  /* A day label ('2026-12-05') in the desk's date format, given with Django's format characters on the canvas
     (data-date-format, from settings.DATE_DISPLAY_FORMAT), so charts read like every other page. */
  function formatDay(label, pattern) {
    var match = pattern && ISO_DATE.exec(label);
    if (!match) return label;
    var year = +match[1], month = +match[2], day = +match[3];
    var weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
    var pad = function (n) { return n < 10 ? '0' + n : String(n); };
    var parts = {
      j: String(day), d: pad(day), D: DAYS[weekday], n: String(month), m: pad(month), M: MONTHS[month - 1],
      b: MONTHS[month - 1].toLowerCase(), F: MONTH_NAMES[month - 1], Y: String(year), y: String(year).slice(2)
    };
    var out = '';
    for (var i = 0; i < pattern.length; i++) {
      var ch = pattern.charAt(i);
      if (ch === '\\' && i + 1 < pattern.length) { out += pattern.charAt(++i); continue; }
      out += Object.prototype.hasOwnProperty.call(parts, ch) ? parts[ch] : ch;
    }
    return out;
  }

  function urlAt(chart, element) {
    var dataset = chart.data.datasets[element.datasetIndex];
    if (dataset.urls && dataset.urls[element.index]) return dataset.urls[element.index];
    for (var i = 0; i < chart.data.datasets.length; i++) {
      var other = chart.data.datasets[i];
      if (other.urls && other.urls[element.index]) return other.urls[element.index];
    }
    return null;
  }

  function draw(canvas) {
    var holder = document.getElementById(canvas.getAttribute('data-chart'));
    if (!holder || typeof Chart === 'undefined') return;
    var spec = JSON.parse(holder.textContent);
    var datasets = spec.datasets.map(function (d) {
      var color = COLORS[d.color] || COLORS.blue;
      return {
        type: d.type,
        label: d.label,
        data: d.data,
        unit: d.unit,
        urls: d.urls || [],
        yAxisID: d.axis || 'y',
        borderColor: color,
        backgroundColor: d.type === 'bar' ? color + 'b3' : color,
        borderWidth: d.type === 'bar' ? 0 : 2,
        borderDash: d.dashed ? [6, 4] : [],
        pointRadius: 3,
        pointHoverRadius: 5,
        tension: 0.25,
        spanGaps: false,
        order: d.type === 'line' ? 0 : 1,
        maxBarThickness: 48
      };
    });
    var scales = {
      x: { title: { display: !!spec.x, text: spec.x || '' }, ticks: { autoSkip: true, maxRotation: 0 }, grid: { display: false } },
      y: axis(spec.y, 'left', false)
    };
    if (spec.y2) scales.y2 = axis(spec.y2, 'right', true);
    var chart = new Chart(canvas, {
      type: 'bar',
      data: {
        labels: spec.labels.map(function (label) { return formatDay(label, canvas.getAttribute('data-date-format')); }),
        datasets: datasets
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: 'index', intersect: false },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 12, usePointStyle: true } },
          tooltip: {
            callbacks: {
              label: function (context) { return context.dataset.label + ': ' + withUnit(context.parsed.y, context.dataset.unit); },
              footer: function () { return 'Click to see the tickets'; }
            }
          }
        },
        scales: scales,
        onHover: function (event, elements, instance) {
          var link = elements.length && urlAt(instance, elements[0]);
          event.native.target.style.cursor = link ? 'pointer' : 'default';
        },
        onClick: function (event, elements, instance) {
          var hits = instance.getElementsAtEventForMode(event, 'nearest', { intersect: true }, true);
          var target = hits.length ? hits[0] : elements[0];
          var link = target && urlAt(instance, target);
          if (link) window.location.href = link;
        }
      }
    });
    canvas.chart = chart;
  }

  function init() {
    document.querySelectorAll('canvas[data-chart]').forEach(draw);
    if (window.bootstrap && window.bootstrap.Tooltip) {
      document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
        window.bootstrap.Tooltip.getOrCreateInstance(el);
      });
    }
  }

  window.pitcrewFormatDay = formatDay;

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
