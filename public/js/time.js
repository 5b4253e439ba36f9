// Keeps "5 minutes ago" current, and shows every <time> in the viewer's own zone on hover. Agents choose
// their zone in their preferences (body data-tz), and the server already wrote the hover text in it. The
// words are in the page's language (html lang), not the browser's, so they match the text around them.
(function () {
  'use strict';
  var lang = document.documentElement.lang || undefined;
  var rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }) : null;
  var exact = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
  // The catalog's "just now" (common.time.just_now), as the server writes it; Intl's "now" where a page lacks it.
  var justNowMeta = document.querySelector('meta[name="i18n-just-now"]');
  var units = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60]];
  function relative(d) {
    var secs = Math.round((d.getTime() - Date.now()) / 1000);
    if (!rtf) return exact.format(d);
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(secs) >= units[i][1]) return rtf.format(Math.trunc(secs / units[i][1]), units[i][0]);
    }
    return justNowMeta ? justNowMeta.content : rtf.format(0, 'second');
  }
  function update() {
    var nodes = document.querySelectorAll('time[datetime]');
    for (var i = 0; i < nodes.length; i++) {
      var d = new Date(nodes[i].getAttribute('datetime'));
      if (isNaN(d.getTime())) continue;
      if (!document.body.hasAttribute('data-tz')) nodes[i].title = exact.format(d);
      if (!nodes[i].hasAttribute('data-exact')) nodes[i].textContent = relative(d);
    }
  }
  document.addEventListener('DOMContentLoaded', function () {
    update();
    setInterval(update, 60000);
  });
})();
