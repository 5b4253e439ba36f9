// Queue pages: the "select all on this page" box ticks or clears every row, and shows whether all, some or none
// are ticked. Without this script the box still works: it sends the page's numbers (see bulk-routes.ts).
(function () {
  'use strict';

  var all = document.getElementById('bulk-all');
  var form = document.getElementById('bulk-form');
  if (!all || !form) return;
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name=tickets]'));

  // Once the rows say what is chosen, the box must not add the whole page back: it is checked only when all are.
  function sync() {
    var ticked = boxes.filter(function (b) { return b.checked; }).length;
    all.checked = ticked > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }

  all.addEventListener('change', function () {
    boxes.forEach(function (b) { b.checked = all.checked; });
    all.indeterminate = false;
  });
  form.addEventListener('change', function (ev) {
    if (ev.target !== all && ev.target.name === 'tickets') sync();
  });
  sync();
})();
