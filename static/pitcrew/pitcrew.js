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

  // The Content-Security-Policy allows no style attributes: sizes and colours computed on the server (a bar's
  // height, a legend's colour) come as data-pc-style and are applied through the DOM, which the policy allows.
  function applyStyles(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var found = Array.prototype.slice.call(scope.querySelectorAll('[data-pc-style]'));
    if (scope.matches && scope.matches('[data-pc-style]')) found.push(scope);
    found.forEach(function (element) {
      element.style.cssText += ';' + element.getAttribute('data-pc-style');
    });
  }
  if (window.htmx) {
    window.htmx.onLoad(applyStyles);  // the page, then every piece htmx swaps in
  } else {
    document.addEventListener('DOMContentLoaded', function () { applyStyles(document); });
  }

  // htmx filters are JavaScript expressions the policy would have to allow eval for; these events replace them.
  // A ticket form's CI or service changed: the known-error offer and the article suggestions follow it.
  // Only a value that really changed since the last announcement counts: a repeated change event would reload
  // the offer under the agent and drop the known error they just chose.
  document.addEventListener('change', function (event) {
    var field = event.target;
    var id = field && field.id;
    if ((id === 'id_ci' || id === 'id_service') && field.getAttribute('data-pc-announced') !== field.value) {
      field.setAttribute('data-pc-announced', field.value);
      document.body.dispatchEvent(new CustomEvent('pc-ci-changed', { bubbles: true }));
    }
  });
  // The inbox bell does not refresh under the person while its menu is open.
  document.addEventListener('htmx:confirm', function (event) {
    var bell = event.target;
    if (bell && bell.id === 'inbox-bell' && bell.querySelector('.dropdown-menu.show')) {
      event.preventDefault();
    }
  });

  // <select data-pc-autosubmit>: choosing an option submits its form (no inline handler).
  document.addEventListener('change', function (event) {
    var target = event.target;
    if (target && target.hasAttribute && target.hasAttribute('data-pc-autosubmit') && target.form) {
      target.form.submit();
    }
  });
})();
