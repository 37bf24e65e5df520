/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The igw web console (docs/CONSOLE.md): a single page over the admin API, same origin.
 * Every value from the server goes into the page as text (textContent), never as HTML; the
 * Content-Security-Policy allows no inline script. The admin token is kept in sessionStorage
 * (this tab only, gone when it closes, never sent by the browser on its own as a cookie would
 * be, so no cross-site request can use it).
 */
'use strict';

const TOKEN_KEY = 'igw.admin.token';
const POLL_MS = 2000;
const WINDOW_MS = 3600 * 1000;
const RANK = { viewer: 1, operator: 2, admin: 3 };

const S = { token: sessionStorage.getItem(TOKEN_KEY), role: null, name: null, samples: [],
            lastStats: null, timer: null, cursors: [] };

/* ---- helpers --------------------------------------------------------------------------- */

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

const view = () => document.getElementById('view');
const may = (need) => (RANK[S.role] || 0) >= RANK[need];
const fmtTime = (ms) => (typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : '');
const stateTag = (s) => el('span', { class: 'state state-' + s }, s);

function fmtAge(ms) {
  if (typeof ms !== 'number' || ms < 0) return '';
  if (ms < 1000) return ms + ' ms';
  if (ms < 120000) return Math.round(ms / 1000) + ' s';
  if (ms < 7200000) return Math.round(ms / 60000) + ' min';
  return Math.round(ms / 3600000) + ' h';
}

function toast(msg, bad) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = bad ? 'error' : '';
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 5000);
}

function errText(r) {
  const e = r.doc && r.doc.error;
  return 'HTTP ' + r.status + (e ? ' ' + e.code + ': ' + e.message : '');
}

async function api(method, path, body) {
  const headers = { Authorization: 'Bearer ' + S.token };
  const opt = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, opt);
  } catch (e) {
    return { status: 0, doc: { error: { code: 'network', message: String(e) } } };
  }
  let doc = null;
  try { doc = await r.json(); } catch (e) { doc = null; }
  if (r.status === 401 && S.role) logout('The admin API refused the token (401): sign in again.');
  return { status: r.status, doc };
}

/* ---- sign in ----------------------------------------------------------------------------- */

async function whoami() {
  const r = await api('GET', '/admin/whoami');
  if (r.status === 200 && r.doc && RANK[r.doc.role]) return { role: r.doc.role, name: r.doc.name };
  if (r.status === 404) {
    /* an igw without roles: its single admin credential is role admin */
    const h = await api('GET', '/admin/health');
    if (h.status === 200) return { role: 'admin', name: 'admin' };
    return { error: errText(h) };
  }
  return { error: errText(r) };
}

function renderLogin(msg) {
  document.getElementById('top').hidden = true;
  const input = el('input', { id: 'token', type: 'password', autocomplete: 'off',
                              placeholder: 'admin token' });
  const form = el('form', { class: 'card login', id: 'login' },
    el('h1', {}, 'igw console'),
    el('label', { for: 'token' }, 'Admin token'), input,
    el('button', { class: 'primary', type: 'submit', id: 'signin' }, 'Sign in'),
    el('p', { class: 'error', id: 'login-error' }, msg || ''),
    el('p', { class: 'muted' }, 'The token stays in this tab only (sessionStorage).'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    S.token = input.value.trim();
    const w = await whoami();
    if (w.error) {
      S.token = null;
      document.getElementById('login-error').textContent = 'Sign-in refused: ' + w.error;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, S.token);
    signedIn(w);
  });
  view().replaceChildren(form);
  input.focus();
}

function signedIn(w) {
  S.role = w.role;
  S.name = w.name;
  document.getElementById('top').hidden = false;
  document.getElementById('who').textContent = S.name + ' (' + S.role + ')';
  if (!S.timer) {
    followEvents();
    poll();
    S.timer = setInterval(poll, POLL_MS);
  }
  if (!location.hash || location.hash === '#/login') location.hash = '#/overview';
  else route();
}

function logout(msg) {
  sessionStorage.removeItem(TOKEN_KEY);
  S.token = S.role = null;
  clearInterval(S.timer);
  S.timer = null;
  if (S.events) S.events.ctl.abort();
  S.events = null;
  S.samples = [];
  renderLogin(msg);
}

/* ---- overview: stats polled, rates from the change between two polls --------------------- */

function num(v) { return typeof v === 'number' ? v : 0; }

/* Per-route rows from /admin/stats, whichever shape it has (an object keyed by route or an
 * array of rows). */
function routesOf(s) {
  let rs = s.routes || [];
  if (!Array.isArray(rs)) rs = Object.entries(rs).map(([k, v]) => Object.assign({ route: k }, v));
  return rs.map((r) => {
    const c = r.deliveries || r.states || r;
    return { route: r.route || r.name, pending: num(c.pending), inflight: num(c.inflight),
             delivered: num(c.delivered), dead: num(c.dead),
             oldest: num(c.pending) > 0 ? r.oldest_pending_age_ms : undefined,
             circuit: (r.circuit && (r.circuit.state || r.circuit)) || r.circuit_state || '' };
  });
}

function totals(s) {
  const d = (s.deliveries && typeof s.deliveries === 'object') ? s.deliveries : s;
  const m = s.messages;
  return { accepted: typeof m === 'number' ? m : num(m && (m.total ?? m.accepted)) || num(s.accepted),
           delivered: num(d.delivered), dead: num(d.dead), depth: num(d.pending) + num(d.inflight) };
}

/* Live counts from GET /admin/events (Server-Sent Events read with fetch: EventSource cannot
 * send the Authorization header). While the stream is up, the rates count its events exactly;
 * without it (an igw without the stream) they come from the change of the stats' counts. */
async function followEvents() {
  const ctl = new AbortController();
  S.events = { ctl, up: false, counts: { accepted: 0, delivered: 0, dead: 0 } };
  const mine = S.events;
  let r;
  try {
    r = await fetch('/admin/events', { headers: { Authorization: 'Bearer ' + S.token },
                                       signal: ctl.signal, cache: 'no-store' });
  } catch (e) {
    return;
  }
  if (r.status !== 200 || !r.body) return;
  mine.up = true;
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const m = /^event: ?(.*)$/m.exec(block);
        if (m && m[1] in mine.counts) mine.counts[m[1]]++;
      }
    }
  } catch (e) { /* aborted or cut: fall back to the stats */ }
  mine.up = false;
  if (S.events === mine && S.role) setTimeout(followEvents, 5000); /* reconnect */
}

async function poll() {
  const r = await api('GET', '/admin/stats');
  if (r.status !== 200 || !r.doc) return;
  const now = Date.now();
  const t = totals(r.doc);
  const prev = S.samples[S.samples.length - 1];
  const ev = S.events && S.events.up ? Object.assign({}, S.events.counts) : null;
  const rate = (k) => {
    if (!prev) return 0;
    const dt = (now - prev.t) / 60000;
    const d = ev && prev.ev ? ev[k] - prev.ev[k] : t[k] - prev.raw[k];
    return dt > 0 ? Math.max(0, d / dt) : 0;
  };
  S.samples.push({ t: now, raw: t, ev, accepted: rate('accepted'), delivered: rate('delivered'),
                   failed: rate('dead'), depth: t.depth });
  while (S.samples.length && S.samples[0].t < now - WINDOW_MS) S.samples.shift();
  S.lastStats = r.doc;
  if (document.getElementById('overview')) drawOverview();
}

function chart(id, title, key, unit, cls) {
  const W = 300, H = 90;
  const now = Date.now();
  const pts = S.samples.map((p) => [p.t, p[key]]);
  const max = Math.max(1, ...pts.map((p) => p[1]));
  /* the x axis spans what has been seen, from 1 minute up to the last hour */
  const span = Math.min(WINDOW_MS, Math.max(20000, pts.length ? now - pts[0][0] : 0));
  const line = pts.map(([t, v]) => {
    const x = ((t - (now - span)) / span) * W;
    const y = H - 4 - (v / max) * (H - 12);
    return x.toFixed(1) + ',' + y.toFixed(1);
  }).join(' ');
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img',
                         'aria-label': title });
  s.append(svg('line', { class: 'axis', x1: 0, y1: H - 4, x2: W, y2: H - 4 }));
  s.append(svg('polyline', { points: line }));
  const last = pts.length ? pts[pts.length - 1][1] : 0;
  return el('div', { class: 'card chart ' + (cls || ''), id },
    el('h3', {}, `${title} (last ${span < 120000 ? Math.round(span / 1000) + ' s'
                                  : Math.round(span / 60000) + ' min'}, max ${Math.round(max)})`),
    el('div', { class: 'now' }, (Math.round(last * 10) / 10) + ' ' + unit), s);
}

function drawOverview() {
  const o = document.getElementById('overview');
  const s = S.lastStats || {};
  const grid = el('div', { class: 'grid' },
    chart('chart-accepted', 'Accepted', 'accepted', '/min'),
    chart('chart-delivered', 'Delivered', 'delivered', '/min'),
    chart('chart-failed', 'Failed (dead letters)', 'failed', '/min', 'failed'),
    chart('chart-depth', 'Queue depth', 'depth', 'deliveries'));
  const rows = routesOf(s).map((r) => el('tr', { class: 'clickable', onclick: () => {
      location.hash = '#/messages?route=' + encodeURIComponent(r.route); } },
    el('td', {}, r.route), el('td', { class: 'num' }, r.pending), el('td', { class: 'num' }, r.inflight),
    el('td', { class: 'num' }, r.delivered), el('td', { class: 'num' }, r.dead),
    el('td', {}, fmtAge(r.oldest)), el('td', {}, r.circuit ? stateTag(r.circuit) : '')));
  const t = totals(s);
  const live = S.events && S.events.up ? 'rates from the live event stream' : 'rates from the change of the counts';
  o.replaceChildren(el('h1', {}, 'Overview'), grid, el('p', { class: 'muted', id: 'rate-source' }, live),
    el('p', { class: 'muted' }, `${t.accepted} messages, ${t.delivered} delivered, ${t.dead} dead,` +
       ` ${t.depth} waiting; storage ${fmtBytes(s.map_used)} of ${fmtBytes(s.map_size)}` +
       (s.full ? ' (FULL)' : '')),
    el('h2', {}, 'Routes'),
    rows.length ? el('table', { id: 'routes' }, el('tr', {}, ['Route', 'Pending', 'In flight',
      'Delivered', 'Dead', 'Oldest pending', 'Circuit'].map((h) => el('th', {}, h))), rows)
      : el('p', { class: 'muted' }, 'This igw reports no per-route counts.'));
}

function fmtBytes(n) {
  if (typeof n !== 'number') return '?';
  return n >= 1 << 30 ? (n / (1 << 30)).toFixed(1) + ' GiB' : (n / (1 << 20)).toFixed(1) + ' MiB';
}

/* ---- message browser --------------------------------------------------------------------- */

const FILTERS = ['channel', 'route', 'state', 'since', 'until', 'order_key', 'idempotency_key',
                 'q', 'limit'];

function statesOf(m) {
  if (Array.isArray(m.deliveries)) return m.deliveries.map((d) => [d.route, d.state]);
  if (m.states && typeof m.states === 'object') return Object.entries(m.states);
  return m.state ? [['', m.state]] : [];
}

async function renderMessages(params) {
  const form = el('form', { class: 'filters', id: 'filters' }, FILTERS.map((f) => el('label', {}, f,
    f === 'state' ? el('select', { name: f }, ['', 'pending', 'inflight', 'delivered', 'dead']
      .map((v) => el('option', { value: v, selected: params.get(f) === v }, v || 'any')))
      : el('input', { name: f, value: params.get(f) || '', size: f === 'q' ? 18 : 10,
                      placeholder: f === 'since' || f === 'until' ? 'ms or date' : null }))),
    el('button', { class: 'primary', type: 'submit', id: 'search' }, 'Search'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const f of FILTERS) {
      let v = form.elements[f].value.trim();
      /* since/until: Unix ms, or any date the browser parses (2026-12-02T10:00Z) */
      if (v && (f === 'since' || f === 'until') && !/^\d+$/.test(v) && !isNaN(Date.parse(v))) {
        v = String(Date.parse(v));
      }
      if (v) q.set(f, v);
    }
    location.hash = '#/messages?' + q.toString();
  });
  const open = el('form', { class: 'filters', id: 'open' }, el('label', {}, 'message id',
    el('input', { name: 'id', size: 18, pattern: '[0-9a-fA-F]{16}' })), el('button', {}, 'Open'));
  open.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = '#/message/' + open.elements.id.value.trim().toLowerCase();
  });
  const out = el('div', { id: 'results' }, el('p', { class: 'muted' }, 'Loading…'));
  view().replaceChildren(el('h1', {}, 'Messages'), form, open, out);
  const r = await api('GET', '/admin/messages?' + params.toString());
  if (r.status === 404) {
    out.replaceChildren(el('p', { class: 'muted' }, 'This igw has no message list; open a message by id.'));
    return;
  }
  if (r.status !== 200 || !r.doc) {
    out.replaceChildren(el('p', { class: 'error' }, errText(r)));
    return;
  }
  const items = r.doc.items || [];
  const rows = items.map((m) => el('tr', { class: 'clickable', 'data-id': m.id,
                                           onclick: () => { location.hash = '#/message/' + m.id; } },
    el('td', {}, el('code', {}, m.id)), el('td', {}, m.channel || ''),
    el('td', {}, fmtTime(m.created_ms)),
    el('td', {}, statesOf(m).map(([rt, st]) => el('span', {}, rt ? rt + ' ' : '', stateTag(st), ' ')))));
  const kids = [items.length ? el('table', { id: 'message-list' }, el('tr', {},
    ['Id', 'Channel', 'Received', 'Deliveries'].map((h) => el('th', {}, h))), rows)
    : el('p', { class: 'muted', id: 'no-messages' }, 'No message matches.')];
  if (r.doc.next) {
    const q = new URLSearchParams(params);
    q.set('cursor', r.doc.next);
    kids.push(el('p', {}, el('a', { href: '#/messages?' + q.toString(), id: 'next' }, 'Older →')));
  }
  const bulk = bulkBar(params);
  out.replaceChildren(...(bulk ? [bulk] : []), ...kids);
  out.dataset.query = params.toString(); /* which search these rows answer */
}

/* ---- bulk repairs over the current filter ----------------------------------------------- */

const BULK_FILTERS = ['channel', 'route', 'state', 'since', 'until', 'order_key', 'idempotency_key'];

function bulkBar(params) {
  const filter = {};
  for (const f of BULK_FILTERS) {
    const v = params.get(f);
    if (v) filter[f] = f === 'since' || f === 'until' ? Number(v) : v;
  }
  if (!Object.keys(filter).length || !may('operator')) return null; /* never "everything" */
  if (params.get('q')) {
    /* the bulk filter has no text search: it would select more than the list shows */
    return el('p', { class: 'muted', id: 'bulk' }, 'Bulk repairs: remove the text filter (q) first.');
  }
  const actions = [['release', 'Release matching'], ['retry', 'Retry matching'],
                   ['replay', 'Replay matching']];
  if (may('admin')) actions.push(['purge', 'Purge matching']);
  return el('div', { class: 'actions', id: 'bulk' }, el('span', { class: 'muted' }, 'Every match: '),
    actions.map(([a, label]) => el('button', { id: 'bulk-' + a, class: a === 'purge' ? 'danger' : '',
                                               onclick: () => bulk(a, filter, params) }, label)),
    el('span', { id: 'bulk-progress', class: 'muted' }));
}

async function bulk(action, filter, params) {
  const dry = await api('POST', '/admin/bulk/' + action, { filter, dry_run: true });
  if (dry.status !== 200 || !dry.doc) {
    toast(action + ': ' + errText(dry), true);
    return;
  }
  if (!dry.doc.count) {
    toast(action + ': no message to change');
    return;
  }
  if ((await ask(`${action} ${dry.doc.count} message(s) matching ${JSON.stringify(filter)}?`)) === null) return;
  let r = await api('POST', '/admin/bulk/' + action, { filter, dry_run: false });
  const bar = () => document.getElementById('bulk-progress');
  while (r.status < 300 && r.doc && r.doc.state === 'running') {
    if (bar()) bar().textContent = `${action}: ${r.doc.done} of ${r.doc.total}`;
    await new Promise((res) => setTimeout(res, 300));
    r = await api('GET', '/admin/jobs/' + encodeURIComponent(r.doc.id));
  }
  if (r.status >= 300 || !r.doc) {
    toast(action + ': ' + errText(r), true);
    return;
  }
  const text = `${action}: ${r.doc.state}, ${r.doc.changed} changed, ${r.doc.failed} refused`;
  toast(text, r.doc.state !== 'done');
  renderMessages(params).then(() => { if (bar()) bar().textContent = text; });
}

/* ---- one message ------------------------------------------------------------------------- */

function ask(text, editValue) {
  const d = document.getElementById('confirm');
  const ta = document.getElementById('confirm-edit');
  document.getElementById('confirm-text').textContent = text;
  ta.hidden = editValue === undefined;
  ta.value = editValue === undefined ? '' : editValue;
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok' ? ta.value : null),
                       { once: true });
    d.returnValue = '';
    d.showModal();
  });
}

async function act(id, action, route, what, body) {
  const text = `${what} message ${id}${route ? ' on route ' + route : ''}?`;
  if ((await ask(text)) === null) return;
  const q = route ? '?route=' + encodeURIComponent(route) : '';
  /* purge: DELETE, which every admin API version takes (POST .../purge is the same) */
  const r = action === 'purge' ? await api('DELETE', `/admin/messages/${id}`)
                               : await api('POST', `/admin/messages/${id}/${action}${q}`, body);
  if (r.status >= 200 && r.status < 300) {
    toast(`${what}: done` + (r.doc && r.doc.status ? ' (' + r.doc.status + ')' : ''));
  } else {
    toast(`${what}: ${errText(r)}`, true);
  }
  if (action === 'purge' && r.status < 300) location.hash = '#/messages';
  else renderMessage(id);
}

async function edit(id, d, body) {
  /* a route without a payload of its own delivers the original body */
  const cur = d && d.payload !== undefined ? (d.payload ?? '') : (body ?? '');
  const text = d ? `Edit the payload of route ${d.route}, then release it:`
                 : 'Edit the body; every route is translated again, then released:';
  const v = await ask(text, typeof cur === 'string' ? cur : JSON.stringify(cur, null, 2));
  if (v === null) return;
  const r = await api('POST', `/admin/messages/${id}/edit`, d ? { route: d.route, payload: v }
                                                               : { body: v });
  toast(r.status < 300 ? 'Edit saved' : 'Edit: ' + errText(r), r.status >= 300);
  renderMessage(id);
}

function attemptsTable(d) {
  const list = d.attempt_log || [];
  if (!list.length) return null;
  return el('table', { class: 'attempts' }, el('tr', {}, ['#', 'Time', 'Status', 'Error',
    'Duration'].map((h) => el('th', {}, h))), list.map((a, i) => el('tr', {},
      el('td', { class: 'num' }, a.n ?? i + 1), el('td', {}, fmtTime(a.time_ms)),
      el('td', { class: 'num' }, a.status || ''), el('td', {}, a.error || ''),
      el('td', { class: 'num' }, typeof a.duration_ms === 'number' ? a.duration_ms + ' ms' : ''))));
}

function deliveryCard(m, d) {
  const nAttempts = d.attempts;
  const buttons = [];
  if (may('operator')) {
    if (d.state === 'pending') buttons.push(el('button', { class: 'act-retry', onclick: () => act(m.id, 'retry', d.route, 'Retry now') }, 'Retry now'));
    if (d.state === 'dead') buttons.push(el('button', { class: 'primary act-release', onclick: () => act(m.id, 'release', d.route, 'Release') }, 'Release'));
    buttons.push(el('button', { class: 'act-replay', onclick: () => act(m.id, 'replay', d.route, 'Replay') }, 'Replay'));
    buttons.push(el('button', { class: 'act-edit', onclick: () => edit(m.id, d, m.body) }, 'Edit payload'));
  }
  const dl = d.dead_letter;
  return el('div', { class: 'card delivery', 'data-route': d.route, 'data-state': d.state },
    el('h2', {}, d.route, ' ', stateTag(d.state)),
    el('p', { class: 'muted' }, `${nAttempts ?? 0} attempt(s); last ${fmtTime(d.last_attempt_ms)}` +
       (d.last_status ? ' status ' + d.last_status : '') + (d.last_error ? ' — ' + d.last_error : '') +
       (d.state === 'pending' && d.next_due_ms ? '; next ' + fmtTime(d.next_due_ms) : '')),
    buttons.length ? el('div', { class: 'actions' }, buttons) : null,
    attemptsTable(d),
    d.payload !== undefined && d.payload !== null ? [el('h3', {}, 'Payload'), el('pre', { class: 'payload' },
      typeof d.payload === 'string' ? d.payload : JSON.stringify(d.payload, null, 2))] : null,
    dl ? [el('h3', {}, 'Dead letter'), el('p', {}, fmtTime(dl.dead_ms), ' status ', dl.status ?? '',
      ' ', dl.error || ''), dl.response ? el('pre', {}, dl.response) : null] : null);
}

/* The message page refreshes itself while a delivery is still on its way. */
function refreshWhileBusy(m) {
  clearTimeout(S.msgTimer);
  const busy = (m.deliveries || []).some((d) => d.state === 'pending' || d.state === 'inflight');
  const here = location.hash;
  if (busy) {
    S.msgTimer = setTimeout(() => {
      if (location.hash === here && !document.getElementById('confirm').open) renderMessage(m.id);
    }, POLL_MS);
  }
}

async function renderMessage(id) {
  clearTimeout(S.msgTimer);
  const r = await api('GET', '/admin/messages/' + encodeURIComponent(id));
  if (r.status !== 200 || !r.doc) {
    view().replaceChildren(el('h1', {}, 'Message ' + id), el('p', { class: 'error' }, errText(r)));
    return;
  }
  const m = r.doc;
  const top = [];
  if (may('operator')) {
    top.push(el('button', { id: 'replay-all', onclick: () => act(m.id, 'replay', null, 'Replay every route of') }, 'Replay all'));
    if ((m.deliveries || []).some((d) => d.state === 'dead')) {
      top.push(el('button', { id: 'release-all', onclick: () => act(m.id, 'release', null, 'Release every dead delivery of') }, 'Release all'));
    }
    top.push(el('button', { id: 'edit-body', onclick: () => edit(m.id, null, m.body) }, 'Edit body'));
  }
  if (may('admin')) {
    top.push(el('button', { class: 'danger', id: 'purge', onclick: () => act(m.id, 'purge', null, 'Purge (delete for good)') }, 'Purge'));
  }
  view().replaceChildren(el('h1', {}, 'Message ', el('code', { id: 'message-id' }, m.id)),
    el('p', { class: 'muted' }, `channel ${m.channel}, received ${fmtTime(m.created_ms)}, ` +
       `${m.body_len} bytes ${m.content_type || ''}`),
    top.length ? el('div', { class: 'actions' }, top) : null,
    el('h2', {}, 'Body'), el('pre', { id: 'body' }, m.body ?? '(not text, or over 64 KiB)'),
    el('h2', {}, 'Metadata'), el('pre', {}, JSON.stringify(m.metadata, null, 2)),
    ...(m.deliveries || []).map((d) => deliveryCard(m, d)));
  refreshWhileBusy(m);
}

/* ---- alerts and audit (when the igw has them) --------------------------------------------- */

/* sections: [[key of the answer's array, heading, columns]]; a column ending in _ms is a time */
async function renderList(title, path, sections) {
  view().replaceChildren(el('h1', {}, title), el('p', { class: 'muted' }, 'Loading…'));
  const r = await api('GET', path);
  if (r.status === 404) {
    view().replaceChildren(el('h1', {}, title), el('p', { class: 'muted' }, 'This igw has no ' + title.toLowerCase() + '.'));
    return;
  }
  if (r.status !== 200 || !r.doc) {
    view().replaceChildren(el('h1', {}, title), el('p', { class: 'error' }, errText(r)));
    return;
  }
  const cell = (v, k) => (k.endsWith('_ms') && k !== 'window_ms' ? fmtTime(v)
    : typeof v === 'object' && v !== null ? JSON.stringify(v) : v ?? '');
  const out = [el('h1', {}, title)];
  for (const [key, heading, cols] of sections) {
    const items = r.doc[key] || [];
    if (heading) out.push(el('h2', {}, heading));
    out.push(items.length
      ? el('table', { class: 'list', id: 'list-' + key }, el('tr', {}, cols.map((k) => el('th', {}, k))),
        items.map((i) => el('tr', {}, cols.map((k) => el('td', {}, k === 'state' || k === 'status'
          ? stateTag(String(i[k] ?? '')) : cell(i[k], k))))))
      : el('p', { class: 'muted' }, 'Nothing yet.'));
  }
  if (r.doc.next) out.push(el('p', { class: 'muted' }, 'Older entries: GET ' + path + '?cursor=' + r.doc.next));
  view().replaceChildren(...out);
}

/* ---- router ------------------------------------------------------------------------------ */

function route() {
  if (!S.role) return;
  const h = location.hash.slice(1) || '/overview';
  const [path, qs] = h.split('?');
  for (const a of document.querySelectorAll('header nav a')) {
    a.classList.toggle('active', path.startsWith(a.getAttribute('href').slice(1)));
  }
  if (path.startsWith('/message/')) renderMessage(path.slice(9));
  else if (path === '/messages') renderMessages(new URLSearchParams(qs || ''));
  else if (path === '/alerts') {
    renderList('Alerts', '/admin/alerts', [
      ['rules', 'Rules', ['name', 'kind', 'route', 'threshold', 'window_ms', 'state', 'value']],
      ['items', 'Incidents', ['incident', 'alert', 'kind', 'route', 'state', 'value', 'started_ms', 'resolved_ms']]]);
  } else if (path === '/audit') {
    renderList('Audit', '/admin/audit', [['items', '', ['seq', 'ts_ms', 'who', 'role', 'action', 'target', 'detail']]]);
  }
  else {
    view().replaceChildren(el('div', { id: 'overview' }));
    drawOverview();
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', async () => {
  document.getElementById('logout').addEventListener('click', () => logout(''));
  if (!S.token) {
    renderLogin();
    return;
  }
  const w = await whoami();
  if (w.error) logout('');
  else signedIn(w);
});
