// Remembers an agent's "Hide changes" choice across ticket pages; the checkbox works without this script.
(function () {
  'use strict';
  var box = document.getElementById('hide-history');
  if (!box) return;
  var KEY = 'switchboard.hideHistory';
  try {
    box.checked = localStorage.getItem(KEY) === '1';
    box.addEventListener('change', function () { localStorage.setItem(KEY, box.checked ? '1' : '0'); });
  } catch (e) { /* storage refused (private mode): the checkbox still works for this page */ }
})();
