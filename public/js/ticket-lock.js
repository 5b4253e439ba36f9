// Collision handling on the staff ticket page (DESIGN.md §4 "Collision locking"): takes the lock when the
// agent starts writing or presses "Start a reply" (or on view, by setting), renews it while they write,
// releases it when they leave, shows who holds it and who else is looking, and autosaves the reply and note
// boxes. The page works without this script; the server enforces the lock either way.
//
// Releases name the lock by the token this page got when it took the lock (or was served holding it): the
// leave beacon is sent as the next page is already being served, and must not release a lock that page took.
(function () {
  'use strict';
  var root = document.querySelector('[data-lock-root]');
  if (!root || !window.fetch || !window.URLSearchParams) return;

  var d = root.dataset;
  var base = '/scp/tickets/' + encodeURIComponent(d.ticket);
  var statusEl = document.getElementById('lock-status');
  var viewersEl = document.getElementById('lock-viewers');
  var renewMs = Number(d.renewMs) || 60000;
  var lockMs = Number(d.lockMs) || 300000;
  var pollMs = Number(d.pollMs) || 10000;
  var SAVE_DELAY_MS = 2000;
  // A refused take is not retried on every keystroke.
  var RETAKE_MS = 5000;

  var boxes = { reply: document.getElementById('f-message'), note: document.getElementById('f-note') };
  var serverDraftAt = { reply: Number(d.replyDraftAt) || 0, note: Number(d.noteDraftAt) || 0 };
  var saved = { reply: boxes.reply ? boxes.reply.value : '', note: boxes.note ? boxes.note.value : '' };
  var timers = {};
  var mine = d.lockMine === '1';
  var token = d.lockToken || '';
  var startForm = document.getElementById('take-lock');
  // A lock already held when the page loads was taken by opening the reply form: that counts as writing.
  var lastInput = mine ? Date.now() : 0;
  var lastRenew = Date.now();
  var lastPoll = Date.now();
  var lastTake = 0;
  var expired = false;
  var submitting = false;
  // The page is being replaced by another page of this ticket (a form or link of its own): the lock stays.
  var staying = false;

  function send(path, fields) {
    var body = new URLSearchParams(fields || {});
    return fetch(base + path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': d.csrf, Accept: 'application/json' },
      body: body
    }).then(function (res) {
      if (res.status === 401) {
        sessionExpired();
        return null;
      }
      if (expired) sessionBack();
      if (!res.ok || res.status === 204) return null;
      return res.json();
    }, function () {
      // Offline or the server restarting: the next tick tries again.
      return null;
    });
  }

  // The lock texts come from the page in the agent's language (data-text-*): HTML from the catalog with
  // {placeholders}, filled here with plain text so a name can never become markup.
  var lang = document.documentElement.lang || undefined;
  var list = window.Intl && Intl.ListFormat ? new Intl.ListFormat(lang, { style: 'long', type: 'conjunction' }) : null;

  function text(name, values) {
    var tpl = document.createElement('template');
    tpl.innerHTML = d['text' + name] || '';
    var walker = document.createTreeWalker(tpl.content, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(function (node) {
      node.textContent = node.textContent.replace(/\{(\w+)\}/g, function (m, key) {
        return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : m;
      });
    });
    return Array.prototype.slice.call(tpl.content.childNodes);
  }

  function setMessage(id, nodes, kind) {
    var box = document.getElementById(id);
    if (!nodes) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement('p');
      box.id = id;
      box.setAttribute('role', 'status');
      statusEl.parentNode.insertBefore(box, statusEl.nextSibling);
    }
    box.className = 'flash flash-' + kind;
    box.replaceChildren.apply(box, nodes);
  }

  function show(s) {
    if (!s) return;
    var wasMine = mine;
    mine = s.mine;
    statusEl.classList.toggle('lock-other', Boolean(s.lock && !s.mine));
    if (s.lock && s.mine) {
      statusEl.replaceChildren.apply(statusEl, text('Mine', { until: s.lock.until }));
    } else if (s.lock) {
      statusEl.replaceChildren.apply(statusEl, [document.createTextNode('🔒 ')].concat(text('Other', { name: s.lock.holderName, since: s.lock.since, until: s.lock.until })));
    } else {
      statusEl.replaceChildren();
    }
    if (s.notice) {
      setMessage('lock-notice', text('Released', { name: s.notice.releasedByName, at: s.notice.at }), 'info');
    }
    if (startForm) startForm.hidden = Boolean(s.lock);
    if (s.viewers) {
      var names = s.viewers.map(function (v) { return v.name; });
      viewersEl.replaceChildren.apply(viewersEl, names.length ? text('Viewers', { names: list ? list.format(names) : names.join(', ') }) : []);
    }
    // Lost without having renewed (an administrator broke it, or it lapsed): renewal tells which.
    if (wasMine && !s.mine && !s.fromRenew) renew();
  }

  function take() {
    lastTake = Date.now();
    return send('/lock').then(function (s) {
      lastRenew = Date.now();
      if (s && s.mine) token = s.token || '';
      show(s);
      return s;
    });
  }

  function renew() {
    lastRenew = Date.now();
    send('/lock/renew').then(function (s) {
      if (!s) return;
      s.fromRenew = true;
      // It lapsed and nobody else took it: the agent is still writing, so take it again quietly.
      if (!s.mine && !s.lock && !s.notice) take();
      else show(s);
    });
  }

  function localKey(kind) {
    return 'sb-draft:' + d.ticket + ':' + kind;
  }

  function keepLocally(kind, body) {
    try {
      window.localStorage.setItem(localKey(kind), JSON.stringify({ body: body, at: Date.now() }));
    } catch (e) {
      // Storage full or disabled: the server copy up to the last save is all there is.
    }
  }

  function forgetLocally(kind) {
    try {
      window.localStorage.removeItem(localKey(kind));
    } catch (e) {
      // Nothing to forget.
    }
  }

  function save(kind) {
    var box = boxes[kind];
    if (!box || submitting) return;
    var body = box.value;
    if (body === saved[kind]) return;
    send('/draft', { kind: kind, body: body }).then(function (r) {
      if (r && r.saved) {
        saved[kind] = body;
        forgetLocally(kind);
      } else {
        keepLocally(kind, body);
      }
    });
  }

  function scheduleSave(kind) {
    clearTimeout(timers[kind]);
    timers[kind] = setTimeout(function () { save(kind); }, SAVE_DELAY_MS);
  }

  function sessionExpired() {
    if (expired) return;
    expired = true;
    ['reply', 'note'].forEach(function (kind) {
      if (boxes[kind] && boxes[kind].value !== saved[kind]) keepLocally(kind, boxes[kind].value);
    });
    var nodes = text('Expired', {});
    nodes.forEach(function (n) {
      var link = n.nodeName === 'A' ? n : n.querySelector && n.querySelector('a');
      if (!link) return;
      link.href = '/scp/login?next=' + encodeURIComponent(location.pathname);
      link.target = '_blank';
      link.rel = 'noopener';
    });
    setMessage('session-notice', nodes, 'error');
  }

  function sessionBack() {
    expired = false;
    setMessage('session-notice', null);
    ['reply', 'note'].forEach(scheduleSave);
  }

  function onInput(kind) {
    lastInput = Date.now();
    var guarded = kind === 'reply' || d.notesLocked === '1';
    if (guarded && !mine && Date.now() - lastTake > RETAKE_MS) take();
    scheduleSave(kind);
  }

  // "Start a reply" without leaving the page: the text already typed and the scroll position stay.
  if (startForm) {
    startForm.addEventListener('submit', function (ev) {
      ev.preventDefault();
      lastInput = Date.now();
      take().then(function (s) {
        if (s && s.mine && boxes.reply) boxes.reply.focus();
      });
    });
  }

  function sameTicket(url) {
    try {
      var u = new URL(url, location.href);
      return u.origin === location.origin && (u.pathname === base || u.pathname.indexOf(base + '/') === 0);
    } catch (e) {
      return false;
    }
  }

  // Changing the status or properties, or showing an entry's images, brings this ticket back in this tab:
  // the agent is still answering, so the lock is not released on the way. (Reply and note set `submitting`.)
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (form === startForm || !sameTicket(form.action)) return;
    staying = true;
    // Another handler may still cancel the submission.
    setTimeout(function () { if (ev.defaultPrevented) staying = false; }, 0);
  });
  document.addEventListener('click', function (ev) {
    var link = ev.target.closest ? ev.target.closest('a[href]') : null;
    if (!link || ev.defaultPrevented || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey || link.target || link.hasAttribute('download')) return;
    var u = new URL(link.href, location.href);
    // A link to a place on this very page (skip link, #entry-…) leaves nothing: no page to stay on either.
    if (sameTicket(link.href) && u.pathname === base && (u.search !== location.search || !u.hash)) staying = true;
  });

  ['reply', 'note'].forEach(function (kind) {
    var box = boxes[kind];
    if (!box) return;
    box.addEventListener('input', function () { onInput(kind); });
    box.form.addEventListener('submit', function () {
      submitting = true;
      clearTimeout(timers.reply);
      clearTimeout(timers.note);
      if (expired) keepLocally(kind, box.value);
    });
    // Text typed while the session was gone, kept in this browser: newer than the server's draft, so it wins.
    try {
      var local = JSON.parse(window.localStorage.getItem(localKey(kind)) || 'null');
      if (local && typeof local.body === 'string') {
        if (local.at > serverDraftAt[kind] && local.body !== box.value) {
          box.value = local.body;
          scheduleSave(kind);
        } else {
          forgetLocally(kind);
        }
      }
    } catch (e) {
      forgetLocally(kind);
    }
  });

  setInterval(function () {
    var now = Date.now();
    var writing = d.lockMode === 'view' || now - lastInput < lockMs;
    if (mine && writing && now - lastRenew >= renewMs) renew();
    if (now - lastPoll >= pollMs && !document.hidden) {
      lastPoll = now;
      send('/presence').then(show);
    }
  }, 1000);

  // Closing the tab or leaving the ticket: release the lock this page holds, end presence, save what the last
  // autosave missed. Staying on the ticket: only save.
  window.addEventListener('pagehide', function () {
    if (submitting || !navigator.sendBeacon) return;
    if (staying) {
      ['reply', 'note'].forEach(function (kind) {
        if (boxes[kind] && boxes[kind].value !== saved[kind]) {
          navigator.sendBeacon(base + '/draft', new URLSearchParams({ _csrf: d.csrf, kind: kind, body: boxes[kind].value }));
        }
      });
      return;
    }
    var fields = new URLSearchParams({ _csrf: d.csrf, token: token });
    ['reply', 'note'].forEach(function (kind) {
      if (boxes[kind] && boxes[kind].value !== saved[kind]) fields.set(kind + 'Draft', boxes[kind].value);
    });
    navigator.sendBeacon(base + '/leave', fields);
  });

  // Back from the browser's page cache: the leave above already ran, so announce presence and, if the
  // agent had been writing, take the lock again.
  window.addEventListener('pageshow', function (ev) {
    if (!ev.persisted) return;
    submitting = false;
    staying = false;
    send('/presence').then(show);
    if (d.lockMode === 'view' || (boxes.reply && boxes.reply.value)) take();
  });

})();
