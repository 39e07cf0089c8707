/* Ticket pages and queues: inline refusals, the action panel, and row selection for bulk changes. */
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

  // An action form opened in the panel gets the focus (its first invalid field after a refusal).
  document.body.addEventListener('htmx:afterSwap', function (event) {
    var target = event.detail.target;
    if (!target) return;
    if (target.id === 'ticket-action-panel') {
      var form = target.querySelector('form');
      if (form) {
        var field = form.querySelector('.is-invalid') ||
          form.querySelector('input:not([type=hidden]):not([disabled]), select, textarea, button[type=submit]');
        if (field) field.focus({preventScroll: true});
      }
      if (target.firstElementChild) target.scrollIntoView({block: 'nearest', behavior: 'smooth'});
    }
    if (target.id === 'object-table') updateSelection();
  });

  document.addEventListener('click', function (event) {
    var close = event.target.closest('[data-pc-close-panel]');
    var panel = document.getElementById('ticket-action-panel');
    if (close && panel && panel.contains(close)) {
      event.preventDefault();
      panel.innerHTML = '';
    }
  });

  // Queue rows: "select all", the count of selected rows, and the fields of the chosen bulk operation.
  function rowBoxes() {
    return Array.prototype.slice.call(document.querySelectorAll('input[type=checkbox][name=tickets]'));
  }

  function updateSelection() {
    var counter = document.querySelector('[data-pc-selected-count]');
    if (!counter) return;
    var boxes = rowBoxes();
    var selected = boxes.filter(function (box) { return box.checked; }).length;
    counter.textContent = selected ? selected + ' selected' : 'Select rows to change them together';
    var all = document.querySelector('[data-pc-select-all]');
    if (all) {
      all.checked = selected > 0 && selected === boxes.length;
      all.indeterminate = selected > 0 && selected < boxes.length;
    }
    var submit = document.querySelector('[data-pc-bulk-submit]');
    if (submit) submit.disabled = selected === 0;
  }

  function showOperationFields() {
    var operation = document.querySelector('#bulk-form select[name=operation]');
    if (!operation) return;
    document.querySelectorAll('[data-pc-bulk]').forEach(function (group) {
      group.hidden = group.getAttribute('data-pc-bulk') !== operation.value;
    });
  }

  document.addEventListener('change', function (event) {
    var target = event.target;
    if (target.matches('[data-pc-select-all]')) {
      rowBoxes().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches('[data-pc-select-all], input[name=tickets]')) updateSelection();
    if (target.matches('#bulk-form select[name=operation]')) showOperationFields();
  });

  updateSelection();
  showOperationFields();
})();
