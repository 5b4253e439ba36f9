// Keyboard shortcuts for the staff panel: an addition to the pages, which work without them. Never while the
// agent types in a field, never with Ctrl, Alt or Cmd (those belong to the browser). `?` lists them; the list
// is the <dialog id="keys-help"> the layout renders in the agent's language.
(function () {
  'use strict';

  var help = document.getElementById('keys-help');
  if (!help) return;

  function typing(el) {
    if (!el || el === document.body) return false;
    var tag = el.tagName;
    // A ticked box is not a field being typed in: j/k/x go on working from a row's checkbox.
    if (tag === 'INPUT' && (el.type === 'checkbox' || el.type === 'radio')) return false;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
  }

  // Queue rows: j/k move between them, the row's ticket link takes the focus, so Enter opens it natively.
  var rows = Array.prototype.slice.call(document.querySelectorAll('table.tickets tbody tr'));
  var current = -1;
  function move(step) {
    if (!rows.length) return false;
    if (current >= 0) rows[current].classList.remove('kb-current');
    current = Math.max(0, Math.min(rows.length - 1, current < 0 ? 0 : current + step));
    var row = rows[current];
    row.classList.add('kb-current');
    var link = row.querySelector('td.subject a');
    if (link) link.focus();
    return true;
  }
  // A row the agent clicked or tabbed into is where j/k go on from.
  document.addEventListener('focusin', function (ev) {
    var row = ev.target.closest ? ev.target.closest('table.tickets tbody tr') : null;
    var i = row ? rows.indexOf(row) : -1;
    if (i < 0 || i === current) return;
    if (current >= 0) rows[current].classList.remove('kb-current');
    current = i;
    row.classList.add('kb-current');
  });

  // x ticks or clears the current row's box for the bulk actions (bulk.js keeps "select all" in step).
  function toggleRow() {
    var box = current >= 0 ? rows[current].querySelector('input[type=checkbox][name=tickets]') : null;
    if (!box) return false;
    box.checked = !box.checked;
    box.dispatchEvent(new Event('change', { bubbles: true }));
    return true;
  }

  function focusField(id) {
    var el = document.getElementById(id);
    if (!el || el.disabled) return false;
    el.scrollIntoView({ block: 'center' });
    el.focus();
    return true;
  }

  var actions = {
    j: function () { return move(1); },
    k: function () { return move(-1); },
    x: toggleRow,
    r: function () { return focusField('f-message'); },
    n: function () { return focusField('f-note'); },
    a: function () { return focusField('f-assigneeId'); },
    '/': function () { return focusField('q'); },
    '?': function () {
      if (help.open) help.close();
      else help.showModal();
      return true;
    },
  };

  document.addEventListener('keydown', function (ev) {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing || typing(ev.target)) return;
    // While the list is open, only `?` (and the dialog's own Escape) do anything.
    if (help.open && ev.key !== '?') return;
    var act = actions[ev.key];
    if (act && act()) ev.preventDefault();
  });
})();
