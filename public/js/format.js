// Formatting in the reply and note forms: "Preview" shows the text formatted in place (without this script it
// posts the form and the page comes back with the preview), and a pasted image becomes an attachment that the
// text shows inline.
(function () {
  'use strict';

  var IMAGE_TYPES = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };
  // A name the text can point at: unique within the form, and free of spaces and brackets Markdown would trip on.
  function pastedName(type) {
    var rand = Math.random().toString(36).slice(2, 10);
    return 'image-' + Date.now().toString(36) + '-' + rand + '.' + IMAGE_TYPES[type];
  }

  function insertAtCursor(box, text) {
    var start = box.selectionStart, end = box.selectionEnd, value = box.value;
    var before = value.slice(0, start), after = value.slice(end);
    // An image on a line of its own reads better in the mail and in the thread.
    var lead = before && !/\n$/.test(before) ? '\n' : '';
    var trail = after && !/^\n/.test(after) ? '\n' : '';
    box.value = before + lead + text + trail + after;
    var at = (before + lead + text).length;
    box.setSelectionRange(at, at);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }

  function fileNamed(input, name) {
    for (var i = 0; input && i < input.files.length; i++) if (input.files[i].name === name) return input.files[i];
    return null;
  }

  // The preview's inline images are the pasted files themselves, read as data: URLs (the page allows those);
  // an image whose file is gone shows its name, as the thread would.
  function showImages(container, input) {
    var imgs = container.querySelectorAll('img');
    var pending = [];
    Array.prototype.forEach.call(imgs, function (img) {
      var src = img.getAttribute('src') || '';
      var file = null;
      try {
        if (/^cid:/i.test(src)) file = fileNamed(input, decodeURIComponent(src.slice(4)));
      } catch (e) {
        // A malformed escape names no file of ours.
      }
      if (!file) {
        var span = document.createElement('span');
        span.className = 'sb-blocked-image';
        span.textContent = img.alt ? '[' + img.alt + ']' : '';
        img.replaceWith(span);
        return;
      }
      img.removeAttribute('src');
      pending.push(new Promise(function (resolve) {
        var reader = new FileReader();
        reader.onload = function () { img.src = reader.result; resolve(); };
        reader.onerror = function () { resolve(); };
        reader.readAsDataURL(file);
      }));
    });
    return Promise.all(pending);
  }

  Array.prototype.forEach.call(document.querySelectorAll('form[data-format-form]'), function (form) {
    var box = form.querySelector('textarea');
    var input = form.querySelector('input[type=file]');
    var panel = form.querySelector('[data-format-preview]');
    var body = panel && panel.querySelector('.format-preview-body');
    var toggle = form.querySelector('[data-format-toggle]');
    var csrf = form.querySelector('input[name=_csrf]');
    if (!box || !panel || !body || !toggle || !csrf) return;
    toggle.setAttribute('aria-pressed', panel.hidden ? 'false' : 'true');

    function message(text) {
      body.textContent = '';
      var p = document.createElement('p');
      p.className = 'muted';
      p.textContent = text;
      body.appendChild(p);
    }

    function hide() {
      panel.hidden = true;
      toggle.setAttribute('aria-pressed', 'false');
    }

    toggle.addEventListener('click', function (ev) {
      ev.preventDefault();
      if (!panel.hidden) return hide();
      panel.hidden = false;
      toggle.setAttribute('aria-pressed', 'true');
      if (!box.value.trim()) return message(panel.getAttribute('data-text-empty'));
      fetch(form.getAttribute('data-preview-url'), {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'X-CSRF-Token': csrf.value, Accept: 'application/json' },
        body: new URLSearchParams({ text: box.value })
      }).then(function (res) {
        if (!res.ok) throw new Error('preview ' + res.status);
        return res.json();
      }).then(function (data) {
        // Parsed into an inert template first, so no cid: image is fetched before it is replaced.
        var tpl = document.createElement('template');
        tpl.innerHTML = data.html;
        return showImages(tpl.content, input).then(function () {
          body.textContent = '';
          body.appendChild(tpl.content);
        });
      }).catch(function () {
        message(panel.getAttribute('data-text-failed'));
      });
    });

    // What the preview showed is no longer the text once the text changes.
    box.addEventListener('input', function () { if (!panel.hidden) hide(); });

    if (!input || typeof DataTransfer === 'undefined') return;
    box.addEventListener('paste', function (ev) {
      var items = ev.clipboardData ? ev.clipboardData.files : null;
      var images = Array.prototype.filter.call(items || [], function (f) { return IMAGE_TYPES[f.type]; });
      if (!images.length) return;
      ev.preventDefault();
      var all = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
      images.forEach(function (f) {
        var name = pastedName(f.type);
        all.items.add(new File([f], name, { type: f.type }));
        insertAtCursor(box, '![' + name + '](cid:' + name + ')');
      });
      input.files = all.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
  });
})();
