// The dashboard. It is a client of the public API only: the stream (through cachegate.js, subscribed
// to every notice), GET /v1/notices, /v1/stats, /v1/stats/series, /v1/instances, /v1/rules, /health,
// the entry and meta routes for the inspector, and the dry runs (?dryRun=true, /v1/rules/{table}/evaluate).
import { connect } from './cachegate.js';

const MAX_ROWS = 200;
const params = new URLSearchParams(location.search);
const token = params.get('token') || sessionStorage.getItem('cachegate.token') || '';
if (token) sessionStorage.setItem('cachegate.token', token);
const auth = token ? { Authorization: 'Bearer ' + token } : {};
const $ = (id) => document.getElementById(id);

/** A call of the REST API: {ok, status, json}; a network failure is a status 0. */
async function api(path, { method = 'GET', body } = {}) {
  try {
    const res = await fetch(path, {
      method,
      headers: body === undefined ? auth : { ...auth, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { ok: res.ok, status: res.status, json: text ? JSON.parse(text) : null };
  } catch (e) {
    return { ok: false, status: 0, json: { message: String(e.message || e) } };
  }
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

const cell = (text) => el('td', {}, String(text ?? ''));

export function causeText(c) {
  if (!c) return '';
  if (c.source === 'db') return `db ${c.table || ''} ${c.op || ''}`.trim();
  if (c.source === 'event') return `event ${c.event || ''}`;
  return c.reason ? `api (${c.reason})` : 'api';
}

/** A byte count as people read it: 812 B, 3.4 MB. */
function bytes(n) {
  if (n == null || n < 0) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function ago(ms) {
  if (ms == null) return '–';
  const s = Math.max(0, (Date.now() - ms) / 1000);
  return s < 1 ? 'now' : s < 90 ? `${s.toFixed(0)} s ago` : `${(s / 60).toFixed(0)} min ago`;
}

// ---- the notice table: the history on open, then live ----
const shown = new Set();

function show(f) {
  if (shown.has(f.id)) return; // a live notice that the history already listed
  shown.add(f.id);
  const tr = el('tr', { class: 'notice' + (f.soft ? ' soft' : ''), 'data-id': f.id },
    cell(f.id), cell(new Date(f.at).toLocaleTimeString()), cell(causeText(f.cause) + (f.soft ? ' (soft)' : '')),
    cell(f.keys.join(' ')), cell(f.tags.join(' ')), cell(f.prefixes.join(' ')));
  const body = $('tail').tBodies[0];
  // newest on top: a notice older than the top row (the history arriving after a live one) goes below it
  const first = body.rows[0];
  if (first && first.dataset.id > f.id) {
    let after = first;
    while (after.nextElementSibling && after.nextElementSibling.dataset.id > f.id) after = after.nextElementSibling;
    after.after(tr);
  } else {
    body.prepend(tr);
  }
  while (body.rows.length > MAX_ROWS) {
    shown.delete(body.rows[body.rows.length - 1].dataset.id);
    body.deleteRow(-1);
  }
}

async function loadHistory() {
  const r = await api('/v1/notices?limit=50');
  if (!r.ok) { $('tail-note').textContent = `history unavailable (${r.status}): live notices only`; return; }
  for (const f of r.json.notices) show(f);
  $('tail-note').textContent = `the last ${r.json.notices.length} notices of the history, then live`;
}

const streamUrl = new URL('/v1/stream', location.href);
streamUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
const client = connect({ url: streamUrl.toString(), token, all: true });
client.on('state', (s) => {
  $('state').textContent = s;
  $('state').dataset.state = s;
});
client.on('invalidate', show);
client.on('reset', (f) => show({ id: 'reset-' + Date.now(), at: Date.now(), cause: { source: 'api', reason: 'reset: ' + f.reason }, keys: [], tags: [], prefixes: [] }));

// ---- charts (uPlot: axes, units, a readout on hover) ----
function chart(target, label, format) {
  const width = () => Math.max(300, $(target).clientWidth || 600);
  const u = new uPlot({
    width: width(),
    height: 170,
    scales: { x: { time: true } },
    series: [{}, { label, stroke: '#2f6fd6', fill: '#2f6fd61a', width: 2, spanGaps: false, value: (_, v) => (v == null ? '–' : format(v)) }],
    axes: [{}, { values: (_, ticks) => ticks.map(format), size: 70 }],
    legend: { live: true },
  }, [[], []], $(target));
  addEventListener('resize', () => u.setSize({ width: width(), height: 170 }));
  return u;
}
const rateChart = chart('rate-chart', 'notices/s', (v) => `${Number(v).toFixed(v < 10 ? 1 : 0)}/s`);
let captureChart = null;

async function loadSeries() {
  const r = await api('/v1/stats/series');
  if (!r.ok) return;
  const s = r.json;
  const n = s.notices.length;
  const xs = s.notices.map((_, i) => (s.end - (n - 1 - i) * s.stepMs) / 1000);
  const rates = s.notices.map((c) => c / (s.stepMs / 1000));
  rateChart.setData([xs, rates]);
  const lastMinute = rates.slice(-Math.max(1, Math.round(60_000 / s.stepMs)));
  $('c-rate').textContent = lastMinute.length ? (lastMinute.reduce((a, b) => a + b, 0) / lastMinute.length).toFixed(1) : '–';
  const wal = s.capture.figure === 'walLagBytes';
  if (!captureChart) {
    $('capture-title').textContent = wal ? 'WAL not yet applied (slot lag), last 10 minutes' : 'Outbox depth, last 10 minutes';
    captureChart = chart('capture-chart', wal ? 'slot lag' : 'outbox rows', wal ? bytes : (v) => `${Math.round(v)} rows`);
  }
  const values = s.capture.values.map((v) => (v < 0 ? null : v));
  captureChart.setData([xs, values]);
  $('capture-note').textContent = values.every((v) => v == null)
    ? 'this instance does not lead the capture: the leader\'s dashboard shows its backlog' : '';
}

// ---- counters, health, instances, rules ----
async function refresh() {
  const r = await api('/v1/stats');
  if (!r.ok) {
    $('health').textContent = r.status === 0 ? 'unreachable' : `stats ${r.status}`;
    $('health').dataset.ok = 'false';
    return;
  }
  const stats = r.json;
  $('c-notices').textContent = stats.notices;
  $('c-clients').textContent = stats.clients;
  $('c-subs').textContent = stats.subscriptions;
  $('c-dropped').textContent = stats.slowClientsDropped;
  $('c-hits').textContent = stats.hits;
  $('c-misses').textContent = stats.misses;
  const cap = stats.capture || {};
  $('c-outbox').textContent = cap.outboxDepth ?? '–';
  $('c-lag').textContent = cap.oldestPendingMs ?? '–';
  $('c-leader').textContent = cap.leaderInstance || 'none';
  $('c-mode').textContent = cap.mode || '–';
  const slot = cap.slot || null; // wal mode only
  $('c-wal-lag').textContent = slot ? bytes(slot.lagBytes) : '–';
  $('c-wal-kept').textContent = slot ? bytes(slot.retainedBytes) : '–';
  $('c-wal-lag').dataset.ok = String(!slot || slot.lagBytes <= slot.maxLagBytes);
  $('instance').textContent = `instance ${stats.instance}${stats.leader ? ' (leader)' : ''}`;
  const health = await fetch('/health').catch(() => null);
  $('health').textContent = health && health.ok ? 'healthy' : 'degraded';
  $('health').dataset.ok = String(!!(health && health.ok));
}

async function loadInstances() {
  const r = await api('/v1/instances');
  const body = $('instances').tBodies[0];
  if (!r.ok) { body.replaceChildren(el('tr', {}, el('td', { colSpan: 8 }, `unavailable (${r.status})`))); return; }
  body.replaceChildren(...r.json.instances.sort((a, b) => a.id.localeCompare(b.id)).map((i) => el('tr', { 'data-instance': i.id },
    cell(i.id + (i.self ? ' (this one)' : '')), cell(i.leader ? 'capture leader' : 'streams'), cell(i.clients), cell(i.connections),
    cell(i.subscriptions), cell(i.captureMode), cell(i.positionMs ? ago(i.positionMs) : 'nothing yet'), cell(ago(i.at)))));
}

let rules = null;
async function loadRules() {
  const r = await api('/v1/rules');
  if (!r.ok) { $('rules').textContent = `rules unavailable (${r.status})`; return; }
  rules = r.json;
  const lines = [];
  for (const [t, x] of Object.entries(rules.tables)) lines.push(`table ${t}: keys ${x.keys.join(', ')}; tags ${x.tags.join(', ')}${x.mode === 'soft' ? ' (soft)' : ''}`);
  for (const [e, x] of Object.entries(rules.events)) lines.push(`event ${e}: keys ${x.keys.join(', ')}; tags ${x.tags.join(', ')}`);
  for (const [s, x] of Object.entries(rules.strategies)) lines.push(`type ${s}: ttl ${x.ttl ?? 'default'} s; tags ${x.tags.join(', ')}`);
  $('rules').textContent = lines.join('\n') || 'no rules';
  $('evaluate').elements.table.replaceChildren(...Object.keys(rules.tables).map((t) => el('option', { value: t }, t)));
  $('event-dry').elements.event.replaceChildren(...Object.keys(rules.events).map((e) => el('option', { value: e }, e)));
}

// ---- the key inspector ----
const path = (key) => '/v1/entries/' + encodeURIComponent(key);

function tagTree(tags) {
  // tags are stored with their parents (user:1:profile files under user:1 and user): nest them
  const sorted = [...tags].sort();
  const parentOf = (t) => sorted.filter((p) => p !== t && t.startsWith(p + ':')).sort((a, b) => b.length - a.length)[0] || null;
  const build = (parent) => sorted.filter((t) => parentOf(t) === parent).map((t) => el('li', { 'data-tag': t }, t,
    (() => { const kids = build(t); return kids.length ? el('ul', {}, ...kids) : null; })()));
  return build(null);
}

/** The keys `depth` levels up (dependsOn) and down (dependents) from a key, level by level. */
async function neighbourhood(key, depth = 2, perLevel = 8) {
  const metas = new Map();
  const meta = async (k) => {
    if (!metas.has(k)) metas.set(k, api(path(k) + '/meta').then((r) => (r.ok ? r.json : null)));
    return metas.get(k);
  };
  const levels = new Map([[0, [key]]]);
  const edges = [];
  for (const [dir, field] of [[-1, 'dependsOn'], [1, 'dependents']]) {
    let frontier = [key];
    const seen = new Set([key]);
    for (let d = 1; d <= depth && frontier.length; d++) {
      const next = [];
      for (const k of frontier) {
        const m = await meta(k);
        for (const n of (m && m[field]) || []) {
          edges.push(dir < 0 ? [n, k] : [k, n]);
          if (!seen.has(n)) { seen.add(n); next.push(n); }
        }
      }
      levels.set(dir * d, next.slice(0, perLevel).concat(next.length > perLevel ? [`… ${next.length - perLevel} more`] : []));
      frontier = next.slice(0, perLevel);
    }
  }
  return { levels, edges };
}

function drawGraph({ levels, edges }, center) {
  const svg = $('graph');
  const NS = 'http://www.w3.org/2000/svg';
  const rows = [...levels.keys()].sort((a, b) => a - b).filter((l) => levels.get(l).length);
  const width = Math.max(360, svg.parentElement.clientWidth - 10);
  const rowH = 56;
  svg.setAttribute('viewBox', `0 0 ${width} ${rows.length * rowH + 10}`);
  svg.setAttribute('width', width);
  svg.setAttribute('height', rows.length * rowH + 10);
  svg.replaceChildren();
  const at = new Map();
  rows.forEach((l, r) => levels.get(l).forEach((k, i, all) => at.set(k, [((i + 0.5) / all.length) * width, r * rowH + 25])));
  for (const [a, b] of edges) {
    if (!at.has(a) || !at.has(b)) continue;
    const line = document.createElementNS(NS, 'line');
    const [x1, y1] = at.get(a);
    const [x2, y2] = at.get(b);
    Object.entries({ x1, y1: y1 + 10, x2, y2: y2 - 12, class: 'edge' }).forEach(([k, v]) => line.setAttribute(k, v));
    svg.append(line);
  }
  for (const [k, [x, y]] of at) {
    const g = document.createElementNS(NS, 'g');
    g.setAttribute('class', 'node' + (k === center ? ' center' : ''));
    g.dataset.key = k;
    const label = k.length > 28 ? k.slice(0, 27) + '…' : k;
    const w = Math.min(width / Math.max(1, levels.get(rows.find((l) => levels.get(l).includes(k))).length) - 8, label.length * 7 + 16);
    const rect = document.createElementNS(NS, 'rect');
    Object.entries({ x: x - w / 2, y: y - 12, width: w, height: 24, rx: 6 }).forEach(([a, v]) => rect.setAttribute(a, v));
    const text = document.createElementNS(NS, 'text');
    Object.entries({ x, y: y + 4, 'text-anchor': 'middle' }).forEach(([a, v]) => text.setAttribute(a, v));
    text.textContent = label;
    const title = document.createElementNS(NS, 'title');
    title.textContent = k;
    g.append(rect, text, title);
    if (!k.startsWith('… ')) g.addEventListener('click', () => inspect(k));
    svg.append(g);
  }
}

async function inspect(key) {
  $('inspect').elements.key.value = key;
  $('inspection').hidden = false;
  const [entry, meta, notices] = await Promise.all([api(path(key)), api(path(key) + '/meta'),
    api('/v1/notices?limit=10&key=' + encodeURIComponent(key))]);
  const dl = $('entry');
  const row = (k, v) => [el('dt', {}, k), el('dd', { 'data-field': k }, String(v))];
  if (entry.ok) {
    const e = entry.json;
    const preview = JSON.stringify(e.value);
    dl.replaceChildren(...row('key', key), ...row('value', preview.length > 300 ? preview.slice(0, 300) + '…' : preview),
      ...row('version', e.version), ...row('ttl', `${e.ttl} s`), ...row('type', e.type || '(none)'),
      ...row('state', e.stale ? 'stale (softly invalidated, served until refreshed)' : 'fresh'));
  } else {
    dl.replaceChildren(...row('key', key), ...row('state', entry.status === 404 ? 'not cached' : `unavailable (${entry.status})`));
  }
  const tags = meta.ok ? meta.json.tags : [];
  $('entry-tags').replaceChildren(...(tags.length ? tagTree(tags) : [el('li', { class: 'muted' }, 'no tags')]));
  drawGraph(await neighbourhood(key), key);
  const body = $('entry-notices').tBodies[0];
  const list = notices.ok ? notices.json.notices.slice().reverse() : [];
  body.replaceChildren(...(list.length ? list.map((f) => el('tr', { 'data-id': f.id }, cell(f.id), cell(new Date(f.at).toLocaleTimeString()),
    cell(causeText(f.cause)), cell(f.keys.join(' ')), cell(f.tags.join(' '))))
    : [el('tr', {}, el('td', { colSpan: 5, class: 'muted' }, 'none in the recent history'))]));
}

$('inspect').addEventListener('submit', (ev) => {
  ev.preventDefault();
  inspect(new FormData(ev.target).get('key').trim());
});

// ---- invalidations and dry runs ----
const list = (v) => String(v || '').split(',').map((s) => s.trim()).filter(Boolean);

function outcome(r, dry) {
  if (!r.ok) return `${r.status}: ${r.json ? r.json.message : ''}`;
  const keys = r.json.invalidated;
  const head = dry ? `would invalidate ${keys.length} key(s)` : `notice ${r.json.notice}: ${keys.length} key(s)`;
  const shownKeys = keys.slice(0, 20).join(', ') + (keys.length > 20 ? ` … and ${keys.length - 20} more` : '');
  return `${head}${keys.length ? ': ' + shownKeys : ''}${dry && r.json.tags.length ? `; tags in its notice: ${r.json.tags.join(', ')}` : ''}`
    + (r.json.cascadeTruncated ? ` (cascade stopped at ${r.json.maxCascade})` : '');
}

$('invalidate').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const dry = ev.submitter && ev.submitter.value === '1';
  const form = new FormData(ev.target);
  const body = { keys: list(form.get('keys')), tags: list(form.get('tags')), prefixes: list(form.get('prefixes')), reason: 'dashboard' };
  if (form.get('soft')) body.mode = 'soft';
  const r = await api('/v1/invalidations' + (dry ? '?dryRun=true' : ''), { method: 'POST', body });
  $('invalidate-result').textContent = outcome(r, dry);
});

function parseJson(text, what) {
  try { return JSON.parse(text); } catch (e) { throw new Error(`${what} is not JSON: ${e.message}`); }
}

$('event-dry').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  try {
    const r = await api(`/v1/events/${encodeURIComponent(form.get('event'))}?dryRun=true`, { method: 'POST', body: parseJson(form.get('payload'), 'the payload') });
    $('event-result').textContent = outcome(r, true);
  } catch (e) {
    $('event-result').textContent = e.message;
  }
});

$('evaluate').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const op = form.get('op');
  const body = { op };
  try {
    if (op === 'UPDATE' || op === 'DELETE') body.old = parseJson(form.get('old'), 'the old row');
    if (op === 'UPDATE' || op === 'INSERT') body.new = parseJson(form.get('new'), 'the new row');
  } catch (e) {
    $('evaluate-result').textContent = e.message;
    return;
  }
  const r = await api(`/v1/rules/${encodeURIComponent(form.get('table'))}/evaluate`, { method: 'POST', body });
  if (!r.ok) { $('evaluate-result').textContent = `${r.status}: ${r.json.message}`; return; }
  const t = r.json;
  const names = [t.keys.length && `keys ${t.keys.join(', ')}`, t.tags.length && `tags ${t.tags.join(', ')}`,
    t.prefixes.length && `prefixes ${t.prefixes.join(', ')}`].filter(Boolean).join('; ') || 'nothing';
  // and what is cached under those names now: the same targets, as a dry run
  const dry = await api('/v1/invalidations?dryRun=true', { method: 'POST', body: { keys: t.keys, tags: t.tags, prefixes: t.prefixes } });
  $('evaluate-result').textContent = `the rule names ${names} (${t.mode}); ` + outcome(dry, true);
});

loadHistory();
loadRules();
refresh();
loadSeries();
loadInstances();
if (params.get('key')) inspect(params.get('key'));
setInterval(refresh, 2000);
setInterval(loadSeries, 5000);
setInterval(loadInstances, 5000);
