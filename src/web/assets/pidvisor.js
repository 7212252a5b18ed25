// pidvisor's page script, served from the binary. Without it the pages
// still work (forms post, the server redirects back); with it the status
// table stays live (status.json, polled only while the page is visible),
// actions answer in place, groups fold, a filter narrows the list, uptimes
// count, and the tail page follows the log (/logtail, only while visible).
// Every text from the daemon goes in through textContent, never as HTML.
'use strict';

(function () {
  const POLL_MS = 2000;

  // Python's str(timedelta): "5:03:02", "1 day, 0:00:09", "3 days, ...".
  function uptime(secs) {
    secs = Math.max(0, Math.floor(secs));
    const days = Math.floor(secs / 86400);
    secs %= 86400;
    const two = (n) => String(n).padStart(2, '0');
    const hms = Math.floor(secs / 3600) + ':' + two(Math.floor((secs % 3600) / 60)) + ':' + two(secs % 60);
    if (days === 0) return hms;
    return days + (days === 1 ? ' day, ' : ' days, ') + hms;
  }

  // A URL of this server relative to the page. Resolved against the
  // origin, not location.href: a page opened as http://user:pw@host/
  // would otherwise hand fetch() a URL with credentials, which it refuses
  // (the browser still sends the credentials it has for the origin).
  function here(path) {
    return new URL(path, location.origin + location.pathname).href;
  }

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children || []) e.append(c);
    return e;
  }

  function storedSet(key) {
    try {
      return new Set(JSON.parse(localStorage.getItem(key) || '[]'));
    } catch (e) {
      return new Set();
    }
  }

  function store(key, set) {
    try {
      localStorage.setItem(key, JSON.stringify([...set]));
    } catch (e) {
      // Storage refused: folding lasts until the page is left.
    }
  }

  // ---- the status page ------------------------------------------------

  function statusPage(table) {
    const message = document.getElementById('message');
    const summary = document.getElementById('summary');
    const filter = document.getElementById('filter');
    const empty = document.getElementById('empty');
    const folded = storedSet('pidvisor.folded');
    let skew = 0; // browser clock minus the daemon's, in seconds
    let timer = null;
    let inflight = false;
    let again = false;

    // The message came with the redirect; a reload should not repeat it.
    if (location.search) history.replaceState(null, '', location.pathname);

    function rows() {
      const m = new Map();
      for (const tr of table.querySelectorAll('tr.proc')) m.set(tr.dataset.key, tr);
      return m;
    }

    function show(text, ok) {
      message.textContent = text;
      message.className = 'message' + (ok === true ? ' ok' : ok === false ? ' err' : '');
      message.hidden = false;
    }

    function row(p) {
      const url = encodeURIComponent(p.key);
      const button = (action, label) =>
        el('button', { name: 'action', value: action, class: 'a-' + action }, [label]);
      const tails = el('span', { class: 'tails' }, [
        el('a', { href: 'logtail/' + url, target: '_blank', rel: 'noopener' }, ['stdout']),
        ' ',
        el('a', { href: 'logtail/' + url + '/stderr', target: '_blank', rel: 'noopener' }, ['stderr']),
      ]);
      const form = el('form', { method: 'post', action: 'index.html' }, [
        el('input', { type: 'hidden', name: 'processname', value: p.key }),
        button('start', 'Start'),
        button('restart', 'Restart'),
        button('stop', 'Stop'),
        button('clearlog', 'Clear log'),
      ]);
      return el('tr', { class: 'proc', 'data-key': p.key }, [
        el('td', { class: 'state' }, [el('span', { class: 'badge' })]),
        el('td', { class: 'desc' }),
        el('td', { class: 'name' }, [el('a', { href: 'tail.html?processname=' + url }, [p.key])]),
        el('td', { class: 'acts' }, [form, tails]),
      ]);
    }

    // The set of processes changed (reread/update): build the table
    // again, ordered as the server renders it: programs alone first, then
    // each group under its heading.
    function rebuild(procs) {
      for (const tb of table.querySelectorAll('tbody')) tb.remove();
      const section = (p) => (p.key.includes(':') ? p.group : '');
      const order = (p) => [section(p) === '' ? 0 : 1, section(p), p.group, p.name];
      const cmp = (a, b) => {
        const x = order(a);
        const y = order(b);
        for (let i = 0; i < x.length; i++) {
          if (x[i] < y[i]) return -1;
          if (x[i] > y[i]) return 1;
        }
        return 0;
      };
      let tbody = null;
      for (const p of procs.slice().sort(cmp)) {
        if (!tbody || tbody.dataset.group !== section(p)) {
          tbody = el('tbody', { 'data-group': section(p) });
          if (section(p) !== '') {
            tbody.append(el('tr', { class: 'group-head' }, [
              el('th', { colspan: '4', scope: 'rowgroup' }, [
                el('button', { type: 'button', class: 'fold', 'aria-expanded': 'true' }, [p.group]),
                ' ',
                el('span', { class: 'count' }),
              ]),
            ]));
          }
          table.append(tbody);
        }
        tbody.append(row(p));
      }
      applyFolds();
    }

    function setRow(tr, p) {
      tr.dataset.state = p.state;
      tr.dataset.start = p.start;
      tr.dataset.pid = p.pid;
      tr.querySelector('.badge').textContent = p.state;
      tr.querySelector('td.desc .d').textContent = p.description;
      tr.querySelector('td.desc .st').textContent = p.status_text ? ', status: ' + p.status_text : '';
    }

    function counts() {
      for (const tb of table.querySelectorAll('tbody')) {
        const count = tb.querySelector('.count');
        if (!count) continue;
        const procs = tb.querySelectorAll('tr.proc');
        const up = tb.querySelectorAll('tr.proc[data-state="RUNNING"]').length;
        count.textContent = up + ' of ' + procs.length + ' running';
      }
    }

    function applyFolds() {
      for (const tb of table.querySelectorAll('tbody')) {
        const fold = tb.querySelector('button.fold');
        if (!fold) continue;
        const shut = folded.has(tb.dataset.group);
        tb.classList.toggle('folded', shut);
        fold.setAttribute('aria-expanded', String(!shut));
      }
    }

    function applyFilter() {
      const term = filter.value.trim().toLowerCase();
      for (const tb of table.querySelectorAll('tbody')) {
        let shown = 0;
        for (const tr of tb.querySelectorAll('tr.proc')) {
          const hit = !term || tr.dataset.key.toLowerCase().includes(term) ||
            (tr.dataset.state || '').toLowerCase().includes(term);
          tr.hidden = !hit;
          if (hit) shown++;
        }
        const head = tb.querySelector('tr.group-head');
        if (head) head.hidden = shown === 0;
      }
    }

    // Uptimes count here, between polls.
    function tick() {
      const now = Date.now() / 1000 - skew;
      for (const tr of table.querySelectorAll('tr.proc[data-state="RUNNING"]')) {
        const start = Number(tr.dataset.start);
        const desc = tr.querySelector('td.desc .d');
        if (start > 0 && desc.textContent.startsWith('pid ')) {
          desc.textContent = 'pid ' + tr.dataset.pid + ', uptime ' + uptime(Math.floor(now) - start);
        }
      }
    }

    function update(data) {
      skew = Date.now() / 1000 - data.now;
      const have = rows();
      const same = data.processes.length === have.size && data.processes.every((p) => have.has(p.key));
      if (!same) rebuild(data.processes);
      const now = rows();
      for (const p of data.processes) setRow(now.get(p.key), p);
      summary.textContent = data.summary;
      empty.hidden = data.processes.length > 0;
      counts();
      applyFilter();
      tick();
    }

    function schedule() {
      if (!document.hidden && timer === null) timer = setTimeout(poll, POLL_MS);
    }

    async function poll() {
      if (inflight) {
        again = true;
        return;
      }
      inflight = true;
      clearTimeout(timer);
      timer = null;
      try {
        const r = await fetch(here('status.json'), { cache: 'no-store', headers: { Accept: 'application/json' } });
        if (r.ok) update(await r.json());
        else show('The daemon answered ' + r.status + ' ' + r.statusText + '.', false);
      } catch (e) {
        show('No answer from the daemon; trying again.', false);
      }
      inflight = false;
      if (again) {
        again = false;
        poll();
      } else {
        schedule();
      }
    }

    document.addEventListener('submit', async (ev) => {
      const form = ev.target;
      if (!(form instanceof HTMLFormElement)) return;
      ev.preventDefault();
      const data = new FormData(form);
      if (ev.submitter && ev.submitter.name) data.set(ev.submitter.name, ev.submitter.value);
      const body = new URLSearchParams(data);
      const buttons = form.querySelectorAll('button');
      for (const b of buttons) b.disabled = true;
      const who = body.get('processname');
      show('Working: ' + body.get('action') + (who ? ' ' + who : '') + '\u2026', null);
      try {
        const r = await fetch(here('index.html'), {
          method: 'POST', body, cache: 'no-store', headers: { Accept: 'application/json' },
        });
        if (r.ok) {
          const answer = await r.json();
          show(answer.message, answer.ok);
        } else {
          show('The daemon refused: ' + r.status + ' ' + r.statusText + '.', false);
        }
      } catch (e) {
        show('No answer from the daemon.', false);
      }
      for (const b of buttons) b.disabled = false;
      poll();
    });

    table.addEventListener('click', (ev) => {
      const fold = ev.target.closest('button.fold');
      if (!fold) return;
      const group = fold.closest('tbody').dataset.group;
      if (folded.has(group)) folded.delete(group);
      else folded.add(group);
      store('pidvisor.folded', folded);
      applyFolds();
    });

    filter.addEventListener('input', applyFilter);
    document.addEventListener('keydown', (ev) => {
      if (ev.key === '/' && document.activeElement !== filter) {
        ev.preventDefault();
        filter.focus();
      }
    });
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) {
        clearTimeout(timer);
        timer = null;
      } else {
        poll();
      }
    });

    applyFolds();
    counts();
    setInterval(tick, 1000);
    poll();
  }

  // ---- the tail page --------------------------------------------------

  function tailPage(pre) {
    const name = pre.dataset.name;
    const box = document.getElementById('follow');
    const live = document.getElementById('live');
    if (!name || !box) return;
    const MAX = 512 * 1024;
    let ctrl = null;

    // The stream starts with the log's last kilobyte, most of which the
    // page shows already: skip the longest part that overlaps.
    function overlap(have, text) {
      for (let k = Math.min(have.length, text.length); k > 0; k--) {
        if (have.endsWith(text.slice(0, k))) return k;
      }
      return 0;
    }

    function append(text) {
      const stick = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
      pre.append(text);
      if (pre.textContent.length > MAX) pre.textContent = pre.textContent.slice(-MAX / 2);
      if (stick) pre.scrollTop = pre.scrollHeight;
    }

    function state(text, on) {
      live.textContent = text;
      live.classList.toggle('on', on);
    }

    async function follow() {
      if (ctrl) return;
      const mine = new AbortController();
      ctrl = mine;
      state('following', true);
      try {
        const r = await fetch(here('logtail/' + encodeURIComponent(name)), { signal: mine.signal, cache: 'no-store' });
        if (!r.ok) throw new Error(r.status + ' ' + r.statusText);
        const reader = r.body.getReader();
        const decoder = new TextDecoder();
        let first = true;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          let text = decoder.decode(value, { stream: true });
          if (first) {
            // The first kilobyte may begin inside a character.
            text = text.replace(/^\uFFFD+/, '');
            text = text.slice(overlap(pre.textContent, text));
            first = false;
          }
          if (text) append(text);
        }
        state('the stream ended', false);
      } catch (e) {
        state(mine.signal.aborted ? 'paused' : 'not following: ' + e.message, false);
      }
      if (ctrl === mine) ctrl = null;
    }

    function stop() {
      if (ctrl) ctrl.abort();
      ctrl = null;
    }

    box.addEventListener('change', () => (box.checked ? follow() : stop()));
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) stop();
      else if (box.checked) follow();
    });
    pre.scrollTop = pre.scrollHeight;
    if (box.checked) follow();
  }

  const table = document.getElementById('processes');
  if (table) statusPage(table);
  const log = document.getElementById('log');
  if (log) tailPage(log);
})();
