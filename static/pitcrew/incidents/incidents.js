/* Queues: row selection for bulk changes (the ticket page's behaviour is in records/records.js). */
(function () {
  'use strict';

  document.body.addEventListener('htmx:afterSwap', function (event) {
    if (event.detail.target && event.detail.target.id === 'object-table') updateSelection();
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
      group.hidden = group.getAttribute('data-pc-bulk').split(' ').indexOf(operation.value) === -1;
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
