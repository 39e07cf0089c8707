/* Pages of process records: refusals shown inline, and the action panel (focus, close). */
(function () {
  'use strict';

  // A refused form comes back as a 4xx fragment carrying this header: swap it in so the reason shows next to
  // the input, instead of the generic "could not be updated" alert.
  var INLINE_ERROR_HEADER = 'Pitcrew-Inline-Error';

  document.body.addEventListener('htmx:beforeSwap', function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader(INLINE_ERROR_HEADER)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // An action form opened in the panel gets the focus (its first invalid field after a refusal). After settling:
  // htmx gives the focus back to the element that had it before the swap, which would undo this.
  document.body.addEventListener('htmx:afterSettle', function (event) {
    var target = event.detail.target;
    if (!target || !target.hasAttribute('data-pc-action-panel')) return;
    var form = target.querySelector('form');
    if (form) {
      var field = form.querySelector('.is-invalid') ||
        form.querySelector('input:not([type=hidden]):not([disabled]), select, textarea, button[type=submit]');
      if (field) field.focus({preventScroll: true});
    }
    if (target.firstElementChild) target.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  });

  document.addEventListener('click', function (event) {
    var close = event.target.closest('[data-pc-close-panel]');
    var panel = close && close.closest('[data-pc-action-panel]');
    if (panel) {
      event.preventDefault();
      panel.innerHTML = '';
    }
  });
})();
