/* Queues and ticket pages: row selection for bulk changes, keyboard shortcuts and the type-ahead filter boxes
   (the ticket page's other behaviour is in records/records.js). Everything here also works without it. */
(function () {
  'use strict';

  document.body.addEventListener('htmx:afterSwap', function (event) {
    if (event.detail.target && event.detail.target.id === 'object-table') {
      updateSelection();
      focusRow(-1);
    }
  });

  // ---------------------------------------------------------------------------------------- bulk selection
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
      var unused = group.getAttribute('data-pc-bulk').split(' ').indexOf(operation.value) === -1;
      group.hidden = unused;
      group.classList.toggle('d-none', unused);  // a display class (d-flex) would otherwise keep it shown
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

  // ---------------------------------------------------------------------------------------- keyboard shortcuts
  // j/k move a visible focus between ticket rows, o or Enter open the row, t takes it, c comments, x selects it
  // for the bulk bar, ? lists the shortcuts. On a ticket page, t takes the ticket and c goes to the comment box.
  // Keys typed into a field are the field's.
  var SHORTCUTS = [
    ['j / k', 'Next / previous ticket in the list'],
    ['o or Enter', 'Open the ticket'],
    ['t', 'Take the ticket (assign it to me and accept it)'],
    ['c', 'Comment: open the ticket at its comment box'],
    ['x', 'Select the ticket for a bulk change'],
    ['/', 'Search'],
    ['?', 'Show these shortcuts'],
  ];
  var current = -1;

  function ticketRows() {
    return Array.prototype.slice.call(document.querySelectorAll('.pc-queue-table tbody tr')).filter(function (row) {
      return row.querySelector('a[href]') && row.offsetParent !== null;
    });
  }

  function focusRow(index) {
    var rows = ticketRows();
    rows.forEach(function (row) {
      row.classList.remove('table-active');
      row.removeAttribute('data-pc-focused');
    });
    current = Math.max(-1, Math.min(index, rows.length - 1));
    if (current < 0) return null;
    var row = rows[current];
    row.classList.add('table-active');
    row.setAttribute('data-pc-focused', '');
    row.setAttribute('tabindex', '-1');
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: 'nearest' });
    return row;
  }

  function focusedRow() {
    var rows = ticketRows();
    return current >= 0 && current < rows.length ? rows[current] : null;
  }

  function ticketLink(row) {
    return row.querySelector('a[href]');
  }

  function submitButton(button) {
    if (!button) return false;
    button.click();
    return true;
  }

  function commentBox() {
    return document.querySelector('.pc-comment-form textarea');
  }

  function focusComment() {
    var box = commentBox();
    if (!box) return false;
    box.scrollIntoView({ block: 'center' });
    box.focus();
    return true;
  }

  function shortcutsDialog() {
    var dialog = document.getElementById('pc-shortcuts');
    if (dialog) return dialog;
    dialog = document.createElement('dialog');
    dialog.id = 'pc-shortcuts';
    dialog.className = 'pc-shortcuts border-0 rounded p-0';  // no display class: a closed dialog stays hidden
    dialog.setAttribute('aria-labelledby', 'pc-shortcuts-title');
    dialog.style.width = 'min(34rem, 92vw)';
    var body = document.createElement('div');
    body.className = 'card-body p-4';
    var title = document.createElement('h2');
    title.id = 'pc-shortcuts-title';
    title.className = 'card-title';
    title.textContent = 'Keyboard shortcuts';
    body.appendChild(title);
    var list = document.createElement('dl');
    list.className = 'row mb-3';
    SHORTCUTS.forEach(function (item) {
      var key = document.createElement('dt');
      key.className = 'col-4';
      var kbd = document.createElement('kbd');
      kbd.textContent = item[0];
      key.appendChild(kbd);
      var what = document.createElement('dd');
      what.className = 'col-8';
      what.textContent = item[1];
      list.appendChild(key);
      list.appendChild(what);
    });
    body.appendChild(list);
    var note = document.createElement('p');
    note.className = 'text-secondary small';
    note.textContent = 'Shortcuts do nothing while you type in a field. Esc closes this list.';
    body.appendChild(note);
    var close = document.createElement('button');
    close.type = 'button';
    close.className = 'btn';
    close.textContent = 'Close';
    close.addEventListener('click', function () { dialog.close(); });
    body.appendChild(close);
    dialog.appendChild(body);
    document.body.appendChild(dialog);
    return dialog;
  }

  function showShortcuts() {
    var dialog = shortcutsDialog();
    if (!dialog.open) dialog.showModal();
  }

  function onQueue() {
    return !!document.querySelector('.pc-queue-table');
  }

  function onTicketPage() {
    return !!commentBox();
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener('click', function (event) {
    if (event.target.closest('[data-pc-shortcuts]')) showShortcuts();
  });

  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var open = document.getElementById('pc-shortcuts');
    if (open && open.open) return;
    var key = event.key;
    var handled = false;
    if (key === '?') {
      showShortcuts();
      handled = true;
    } else if (onQueue() && (key === 'j' || key === 'k')) {
      handled = !!focusRow(current < 0 ? 0 : current + (key === 'j' ? 1 : -1));
    } else if (onQueue() && focusedRow() && (key === 'o' || (key === 'Enter' && event.target === focusedRow()))) {
      window.location.href = ticketLink(focusedRow()).href;
      handled = true;
    } else if (key === 't') {
      var row = onQueue() ? focusedRow() : null;
      handled = row
        ? submitButton(row.querySelector('[data-pc-take]'))
        : onTicketPage() && submitButton(document.querySelector('form[action$="/take/"] button[type=submit]'));
    } else if (key === 'c') {
      if (onTicketPage()) {
        handled = focusComment();
      } else if (onQueue() && focusedRow()) {
        window.location.href = ticketLink(focusedRow()).href + '#comment';
        handled = true;
      }
    } else if (key === 'x' && onQueue() && focusedRow()) {
      var box = focusedRow().querySelector('input[name=tickets]');
      if (box) {
        box.checked = !box.checked;
        box.dispatchEvent(new Event('change', { bubbles: true }));
        handled = true;
      }
    }
    if (handled) event.preventDefault();
  });

  // ---------------------------------------------------------------------------------------- type-ahead filters
  // A filter box turns what is picked from its suggestions (or typed, then Enter) into a chip carrying the filter
  // set's value, and applies the filters; a chip's × removes it. Without this script the same form works by
  // reloading: the typed text is read as a value or label by the server and each × is a link.
  function optionFor(input) {
    var text = input.value.trim().toLowerCase();
    var list = input.list;
    if (!text || !list) return null;
    return Array.prototype.slice.call(list.options).filter(function (option) {
      return option.value.toLowerCase() === text || (option.getAttribute('data-value') || '').toLowerCase() === text;
    })[0] || null;
  }

  function chipText(option, input) {
    if (!option) return input.value.trim();
    var label = (option.textContent || '').split(' · ')[0].trim();
    return label || option.value;
  }

  function applyFilters(form) {
    if (typeof form.requestSubmit === 'function') form.requestSubmit();
    else form.submit();
  }

  function addChip(input) {
    var box = input.closest('[data-pc-chips]');
    var option = optionFor(input);
    var freeText = !box.hasAttribute('data-pc-multiple');  // group names and usernames are read as typed
    if (!option && !(freeText && input.value.trim())) return false;
    var value = option ? option.getAttribute('data-value') || option.value : input.value.trim();
    var name = box.getAttribute('data-pc-chips');
    var label = box.querySelector('label').textContent.toLowerCase();
    var holder = input.parentNode;
    var existing = Array.prototype.slice.call(holder.querySelectorAll('[data-pc-chip]'));
    if (!box.hasAttribute('data-pc-multiple')) existing.forEach(function (chip) { chip.remove(); });
    else if (existing.some(function (chip) { return chip.querySelector('input').value === value; })) {
      input.value = '';
      return true;
    }
    var chip = document.createElement('span');
    chip.className = 'badge bg-blue-lt pc-chip';
    chip.setAttribute('data-pc-chip', '');
    chip.appendChild(document.createTextNode(chipText(option, input)));
    var hidden = document.createElement('input');
    hidden.type = 'hidden';
    hidden.name = name;
    hidden.value = value;
    chip.appendChild(hidden);
    var remove = document.createElement('a');
    remove.href = '#';
    remove.className = 'ms-1 text-reset text-decoration-none';
    remove.setAttribute('data-pc-chip-remove', '');
    remove.setAttribute('aria-label', 'Remove ' + label + ' ' + chip.firstChild.textContent);
    remove.textContent = '\u00d7';
    chip.appendChild(remove);
    holder.insertBefore(chip, input);
    input.value = '';
    input.placeholder = box.hasAttribute('data-pc-multiple') ? 'Add…' : 'Change…';
    return true;
  }

  document.addEventListener('input', function (event) {
    var input = event.target;
    if (!input.matches || !input.matches('.pc-chip-input')) return;
    input.classList.remove('is-invalid');
    // Picking a suggestion replaces the text at once (no inputType, or a replacement); typing goes on.
    var picked = !event.inputType || event.inputType === 'insertReplacementText';
    if (picked && optionFor(input) && addChip(input)) applyFilters(input.form);
  });

  document.addEventListener('keydown', function (event) {
    var input = event.target;
    if (event.key !== 'Enter' || !input.matches || !input.matches('.pc-chip-input')) return;
    if (!input.value.trim()) return;  // an empty box: Enter applies the form as it is
    event.preventDefault();
    if (addChip(input)) applyFilters(input.form);
    else input.classList.add('is-invalid');
  });

  document.addEventListener('click', function (event) {
    var remove = event.target.closest && event.target.closest('[data-pc-chip-remove]');
    if (!remove) return;
    var form = remove.closest('form');
    if (!form || !form.hasAttribute('hx-get')) return;  // no htmx here: follow the link
    event.preventDefault();
    var box = remove.closest('[data-pc-chips]');
    remove.closest('[data-pc-chip]').remove();
    var input = box.querySelector('.pc-chip-input');
    if (input && !box.querySelector('[data-pc-chip]')) input.placeholder = input.getAttribute('data-pc-placeholder') || '';
    applyFilters(form);
  });

  // A ticket opened with "c" from a queue lands in its comment box.
  if (window.location.hash === '#comment') focusComment();

  updateSelection();
  showOperationFields();
})();
