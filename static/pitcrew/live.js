/* Live pages (templates/includes/_live.html): ask the server whether the page's scope changed since the version it
   was rendered with, and only then fetch the page again and swap its live regions (or reload it).

   The question is one indexed query answered 204 while nothing changed (itsm/views/live.py). Polling stops while
   the tab is hidden and resumes at once when it is shown. A region the person is typing in is left alone. */
(function () {
  'use strict';

  // Whether the person is busy in a region: the cursor is in it, or a field in it no longer holds what the page
  // was served with (a note being written, a file chosen, rows ticked for a bulk action).
  function typingIn(region) {
    var active = document.activeElement;
    if (active && region.contains(active) && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName))) {
      return true;
    }
    var fields = region.querySelectorAll('input, textarea, select');
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.tagName === 'SELECT') {
        for (var j = 0; j < field.options.length; j++) {
          if (field.options[j].selected !== field.options[j].defaultSelected) return true;
        }
      } else if (field.type === 'checkbox' || field.type === 'radio') {
        if (field.checked !== field.defaultChecked) return true;
      } else if (field.type === 'file') {
        if (field.files && field.files.length) return true;
      } else if (field.type !== 'hidden' && field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function swap(selectors, html) {
    var fresh = new DOMParser().parseFromString(html, 'text/html');
    var swapped = [];
    selectors.forEach(function (selector) {
      var current = document.querySelector(selector);
      var replacement = fresh.querySelector(selector);
      if (!current || !replacement || typingIn(current)) return;
      var node = document.importNode(replacement, true);
      current.replaceWith(node);
      if (window.htmx) window.htmx.process(node);
      swapped.push(node);
    });
    return swapped;
  }

  // Bumped by every htmx swap: a page fetched before the person's own action answered must not be swapped in
  // after it (it would put the state from before the action back, until the next poll).
  var generation = 0;
  document.addEventListener('htmx:afterSwap', function () { generation += 1; });

  function start(marker) {
    if (marker.dataset.pcLiveBound) return;
    marker.dataset.pcLiveBound = '1';
    var every = Math.max(1, parseFloat(marker.dataset.interval || '10')) * 1000;
    var selectors = (marker.dataset.regions || '').split(',').map(function (s) { return s.trim(); }).filter(Boolean);
    var busy = false;

    function refresh(version) {
      if (marker.dataset.mode === 'reload') {
        if (!typingIn(document.body)) window.location.reload();
        return Promise.resolve();
      }
      var startedAt = generation;
      return fetch(window.location.href, { credentials: 'same-origin', cache: 'no-store' })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          // Overtaken by a swap of the person's own: dropped, and the version kept, so the next poll fetches again.
          if (html === null || generation !== startedAt) return;
          var swapped = swap(selectors, html);
          marker.dataset.version = version;
          document.body.dispatchEvent(new CustomEvent('pc-live-updated', { detail: { regions: swapped } }));
        });
    }

    function poll() {
      if (busy || document.hidden) return;
      busy = true;
      var query = new URLSearchParams({ scope: marker.dataset.scope, since: marker.dataset.version });
      if (marker.dataset.id) query.set('id', marker.dataset.id);
      fetch(marker.dataset.url + '?' + query.toString(), {
        credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' }
      })
        .then(function (response) { return response.status === 200 ? response.json() : null; })
        .then(function (data) {
          if (data && data.version && data.version !== marker.dataset.version) return refresh(data.version);
        })
        .catch(function () { /* offline for a moment: the next poll asks again */ })
        .then(function () { busy = false; });
    }

    window.setInterval(poll, every);
    document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
  }

  function init() { document.querySelectorAll('[data-pc-live]').forEach(start); }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
