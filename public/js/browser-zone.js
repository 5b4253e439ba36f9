// First-run form: preselect the browser's time zone when the list has it. Without script the form says UTC.
(function () {
  'use strict';
  document.addEventListener('DOMContentLoaded', function () {
    var select = document.querySelector('[data-browser-zone] select');
    if (!select || !window.Intl) return;
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) { select.value = zone; return; }
    }
  });
})();
