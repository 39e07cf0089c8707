/* Pitcrew page behaviour: keyboard shortcut for the search box and htmx defaults. No inline scripts needed. */
(function () {
  'use strict';

  // "/" focuses the global search box unless the person is already typing somewhere.
  document.addEventListener('keydown', function (event) {
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    var search = document.getElementById('global-search');
    if (!typing && search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
  });

  // After a refused form, put the cursor in the first field to fix.
  document.addEventListener('DOMContentLoaded', function () {
    var invalid = document.querySelector('form .is-invalid');
    if (invalid && typeof invalid.focus === 'function') invalid.focus();
  });

  // A failed htmx request (server error, lost connection) must not fail silently.
  function showError(message) {
    var holder = document.querySelector('.pc-messages');
    if (!holder) {
      holder = document.createElement('div');
      holder.className = 'pc-messages';
      holder.setAttribute('role', 'status');
      var main = document.querySelector('#main .container-fluid') || document.body;
      main.insertBefore(holder, main.firstChild);
    }
    var alert = document.createElement('div');
    alert.className = 'alert alert-danger alert-dismissible';
    alert.setAttribute('role', 'alert');
    alert.textContent = message;
    var close = document.createElement('button');
    close.type = 'button';
    close.className = 'btn-close';
    close.setAttribute('data-bs-dismiss', 'alert');
    close.setAttribute('aria-label', 'Dismiss');
    alert.appendChild(close);
    holder.appendChild(alert);
  }

  document.addEventListener('htmx:responseError', function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : '';
    showError(status === 403 ? 'You do not have permission to do that.' : 'The page could not be updated (error ' + status + '). Reload and try again.');
  });
  document.addEventListener('htmx:sendError', function () {
    showError('Pitcrew could not be reached. Check the connection and try again.');
  });
})();
