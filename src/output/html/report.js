// calcinosis-ls HTML report: keyboard navigation between a note's mentions, the mention's
// details, and the cohort's sort and filter. Views are routed by CSS (:target); a mention
// as target shows its note through the `shown` class set here.
// Everything shown is set with textContent: no note text is ever parsed as HTML here.
(function () {
  'use strict';
  var bar = document.getElementById('mentionbar');
  var detail = document.getElementById('detail');
  var count = document.getElementById('mcount');
  var note = null;
  var current = -1;

  function targetElement() {
    if (location.hash.length < 2) return null;
    return document.getElementById(decodeURIComponent(location.hash.slice(1)));
  }
  function marks() { return note ? note.querySelectorAll('mark') : []; }
  function describe(m) {
    var d = m.dataset;
    var s = (d.crest ? d.crest + ' (' + d.term + ')' : d.term) + ': ' + d.assertion;
    if (d.trigger) s += ', by \u201c' + d.trigger + '\u201d';
    detail.textContent = s;
  }
  function select(i, focus) {
    var ms = marks();
    if (!ms.length) { count.textContent = 'No mentions in this note'; detail.textContent = ''; return; }
    i = (i % ms.length + ms.length) % ms.length;
    if (current >= 0 && ms[current]) ms[current].classList.remove('current');
    current = i;
    var m = ms[i];
    m.classList.add('current');
    count.textContent = 'Mention ' + (i + 1) + ' of ' + ms.length;
    describe(m);
    m.tabIndex = -1;
    if (focus) { m.focus({ preventScroll: true }); m.scrollIntoView({ block: 'center' }); }
  }
  var opened = null;
  function route() {
    var t = targetElement();
    if (note && current >= 0 && marks()[current]) marks()[current].classList.remove('current');
    // A mention as target: show its note (the stylesheet shows a targeted view itself).
    if (opened) opened.classList.remove('shown');
    var view = t ? t.closest('.view') : null;
    opened = view && view !== t ? view : null;
    if (opened) opened.classList.add('shown');
    document.body.classList.toggle('routed', !!view);
    note = t ? t.closest('section.note') : null;
    current = -1;
    bar.hidden = !note;
    if (!note) return;
    var ms = marks();
    var i = Array.prototype.indexOf.call(ms, t);
    if (i >= 0) { select(i, true); return; }
    count.textContent = ms.length ? ms.length + ' mention(s): n for the next' : 'No mentions in this note';
    detail.textContent = '';
  }
  window.addEventListener('hashchange', route);
  document.getElementById('next').addEventListener('click', function () { select(current + 1, true); });
  document.getElementById('prev').addEventListener('click', function () { select(current - 1, true); });
  document.addEventListener('click', function (e) {
    var m = e.target.closest && e.target.closest('mark');
    if (m && note && note.contains(m)) select(Array.prototype.indexOf.call(marks(), m), false);
  });
  document.addEventListener('keydown', function (e) {
    if (!note || e.altKey || e.ctrlKey || e.metaKey) return;
    var tag = e.target.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
    if (e.key === 'n' || e.key === 'j') { select(current + 1, true); e.preventDefault(); }
    else if (e.key === 'p' || e.key === 'k') { select(current < 0 ? -1 : current - 1, true); e.preventDefault(); }
  });

  // The cohort: sort by a column, filter by the CREST criterion or a feature.
  var table = document.getElementById('cohort-table');
  if (!table) { route(); return; }
  var body = table.tBodies[0];
  var rank = { present: 0, historical: 1, possible: 2, hypothetical: 3, family: 4, negated: 5 };
  var letters = 'CREST';
  function key(row, k) {
    if (k === 'patient') return row.cells[0].textContent;
    if (k === 'notes') return -Number(row.dataset.notes);
    if (k === 'n') return -Number(row.dataset.n);
    var cell = row.cells[3 + letters.indexOf(k)];
    var a = cell.dataset.assertion.split(' ')[0];
    return a ? rank[a] : 9;
  }
  table.tHead.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-sort]');
    if (!b) return;
    var th = b.parentNode;
    var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.setAttribute('aria-sort', 'none'); });
    th.setAttribute('aria-sort', dir);
    var k = b.dataset.sort;
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (x, y) {
      var a = key(x, k), c = key(y, k);
      var r = a < c ? -1 : a > c ? 1 : 0;
      return dir === 'ascending' ? r : -r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
  var filter = document.getElementById('filter');
  var shown = document.getElementById('shown');
  function applyFilter() {
    var v = filter.value, n = 0;
    Array.prototype.forEach.call(body.rows, function (r) {
      var keep = v === 'all' || (v === 'crest3' ? Number(r.dataset.n) >= 3 : r.dataset.present.indexOf(v) >= 0);
      r.hidden = !keep;
      if (keep) n++;
    });
    shown.textContent = n + ' of ' + body.rows.length + ' patient(s) shown';
  }
  filter.addEventListener('change', applyFilter);
  applyFilter();
  route();
})();
