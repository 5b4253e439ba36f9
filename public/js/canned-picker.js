// The reply form's canned responses with JavaScript: a search box that filters the responses by title as the
// agent types, and inserts the chosen one, its variables filled in by the server, at the cursor in the reply.
// Without this script the form's select and "Insert" button do the same by posting the form (canned-picker.eta).
(function () {
  'use strict';
  var root = document.querySelector('[data-canned-picker]');
  var select = root && root.querySelector('select[name="cannedId"]');
  var form = root && root.closest('form');
  var textarea = form && form.querySelector('textarea[name="message"]');
  if (!select || !textarea) return;

  var responses = Array.prototype.slice.call(select.options)
    .filter(function (o) { return o.value; })
    .map(function (o) { return { id: o.value, title: o.textContent }; });
  var warning = root.querySelector('.canned-warning');

  // Above the reply text, where the agent looks before writing; the no-script controls give way to the search.
  textarea.closest('.field').before(root);
  root.querySelector('.canned-nojs').hidden = true;
  var label = root.querySelector('label[for="f-cannedId"]');
  label.setAttribute('for', 'canned-search');

  var input = document.createElement('input');
  input.type = 'search';
  input.id = 'canned-search';
  input.autocomplete = 'off';
  input.placeholder = root.getAttribute('data-text-search');
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', 'canned-options');
  input.setAttribute('aria-autocomplete', 'list');
  var list = document.createElement('ul');
  list.id = 'canned-options';
  list.className = 'canned-options';
  list.setAttribute('role', 'listbox');
  list.hidden = true;
  label.after(input, list);

  var shown = [];
  var active = -1;

  function render() {
    var q = input.value.trim().toLowerCase();
    shown = responses.filter(function (r) { return r.title.toLowerCase().indexOf(q) !== -1; });
    list.textContent = '';
    shown.forEach(function (r, i) {
      var li = document.createElement('li');
      li.id = 'canned-option-' + r.id;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', i === active ? 'true' : 'false');
      li.textContent = r.title;
      // mousedown, not click: the search box keeps focus until the choice is made.
      li.addEventListener('mousedown', function (ev) { ev.preventDefault(); choose(r); });
      list.appendChild(li);
    });
    if (!shown.length) {
      var none = document.createElement('li');
      none.className = 'muted';
      none.textContent = root.getAttribute('data-text-none');
      list.appendChild(none);
    }
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    if (active >= 0 && shown[active]) input.setAttribute('aria-activedescendant', 'canned-option-' + shown[active].id);
    else input.removeAttribute('aria-activedescendant');
  }

  function close() {
    list.hidden = true;
    active = -1;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }

  function say(text) {
    warning.textContent = text;
    warning.hidden = !text;
  }

  // The response's files go with the reply as ticked boxes, like those the no-script insert shows.
  var filesBox = root.querySelector('[data-canned-files]');
  function carry(files) {
    var ul = filesBox.querySelector('ul');
    files.forEach(function (f) {
      if (ul.querySelector('input[value="' + f.id + '"]')) return;
      var li = document.createElement('li');
      var label = document.createElement('label');
      label.className = 'choice';
      var box = document.createElement('input');
      box.type = 'checkbox';
      box.name = 'cannedFile';
      box.value = String(f.id);
      box.checked = true;
      label.append(box, ' ' + f.filename);
      li.appendChild(label);
      ul.appendChild(li);
    });
    if (files.length) filesBox.hidden = false;
  }

  function choose(r) {
    close();
    input.value = '';
    fetch(root.getAttribute('data-url') + encodeURIComponent(r.id), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) { if (!res.ok) throw new Error(String(res.status)); return res.json(); })
      .then(function (data) {
        // The textarea keeps its selection while the search box has focus: that is "the cursor".
        var start = textarea.selectionStart;
        var end = textarea.selectionEnd;
        textarea.setRangeText(data.text, start, end, 'end');
        textarea.focus();
        // Tells the draft autosave (ticket-lock.js) that the text changed.
        textarea.dispatchEvent(new Event('input', { bubbles: true }));
        carry(data.files);
        var names = data.unknown.join(', ');
        say(data.unknown.length ? root.getAttribute(data.unknown.length === 1 ? 'data-text-unknown-one' : 'data-text-unknown').replace('{names}', names) : '');
      })
      .catch(function () { say(root.getAttribute('data-text-failed')); });
  }

  input.addEventListener('input', function () { active = 0; render(); if (!shown.length) active = -1; });
  input.addEventListener('focus', function () { render(); });
  input.addEventListener('blur', close);
  input.addEventListener('keydown', function (ev) {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      if (list.hidden) render();
      if (!shown.length) return;
      active = ev.key === 'ArrowDown' ? (active + 1) % shown.length : (active - 1 + shown.length) % shown.length;
      render();
    } else if (ev.key === 'Enter') {
      // Never submits the reply: Enter here picks a response, or does nothing.
      ev.preventDefault();
      if (shown[active]) choose(shown[active]);
    } else if (ev.key === 'Escape') {
      close();
    }
  });
})();
