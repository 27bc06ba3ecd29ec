// The dashboard. It is a client of the public API only: the stream (through cachegate.js, subscribed
// to every notice), GET /v1/stats, /v1/rules and /health, and POST /v1/invalidations.
import { connect } from './cachegate.js';

const MAX_ROWS = 200;
const params = new URLSearchParams(location.search);
const token = params.get('token') || sessionStorage.getItem('cachegate.token') || '';
if (token) sessionStorage.setItem('cachegate.token', token);
const auth = token ? { Authorization: 'Bearer ' + token } : {};
const $ = (id) => document.getElementById(id);

// ---- live tail and rates ----
const perSecond = new Map(); // epoch second -> notices
let seen = 0;

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

export function causeText(c) {
  if (!c) return '';
  if (c.source === 'db') return `db ${c.table || ''} ${c.op || ''}`.trim();
  if (c.source === 'event') return `event ${c.event || ''}`;
  return c.reason ? `api (${c.reason})` : 'api';
}

function show(f) {
  const tr = document.createElement('tr');
  tr.className = 'notice' + (f.soft ? ' soft' : '');
  tr.dataset.id = f.id;
  tr.append(cell(f.id), cell(new Date(f.at).toLocaleTimeString()), cell(causeText(f.cause) + (f.soft ? ' (soft)' : '')),
    cell(f.keys.join(' ')), cell(f.tags.join(' ')), cell(f.prefixes.join(' ')));
  const body = $('tail').tBodies[0];
  body.prepend(tr);
  while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
  $('c-notices').textContent = String(++seen);
  const s = Math.floor(Date.now() / 1000);
  perSecond.set(s, (perSecond.get(s) || 0) + 1);
}

function drawRate() {
  const canvas = $('rate');
  const ctx = canvas.getContext('2d');
  const now = Math.floor(Date.now() / 1000);
  const points = [];
  for (let s = now - 299; s <= now; s++) points.push(perSecond.get(s) || 0);
  for (const s of [...perSecond.keys()]) if (s < now - 300) perSecond.delete(s);
  const max = Math.max(1, ...points);
  const w = canvas.width;
  const h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = '#d0d4dc';
  ctx.beginPath();
  ctx.moveTo(0, h - 1);
  ctx.lineTo(w, h - 1);
  ctx.stroke();
  ctx.strokeStyle = '#2f6fd6';
  ctx.lineWidth = 2;
  ctx.beginPath();
  points.forEach((v, i) => {
    const x = (i / (points.length - 1)) * w;
    const y = h - 4 - (v / max) * (h - 12);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = '#667';
  ctx.fillText(`max ${max}/s`, 4, 12);
  const last10 = points.slice(-10).reduce((a, b) => a + b, 0) / 10;
  $('c-rate').textContent = last10.toFixed(1);
}

const streamUrl = new URL('/v1/stream', location.href);
streamUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
const client = connect({ url: streamUrl.toString(), token, all: true });
client.on('state', (s) => {
  $('state').textContent = s;
  $('state').dataset.state = s;
});
client.on('invalidate', show);
client.on('reset', (f) => show({ id: '–', at: Date.now(), cause: { source: 'api', reason: 'reset: ' + f.reason }, keys: [], tags: [], prefixes: [] }));

// ---- stats, health and rules ----
async function refresh() {
  try {
    const stats = await (await fetch('/v1/stats', { headers: auth })).json();
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
    const health = await fetch('/health');
    $('health').textContent = health.ok ? 'healthy' : 'degraded';
    $('health').dataset.ok = String(health.ok);
  } catch (e) {
    $('health').textContent = 'unreachable';
    $('health').dataset.ok = 'false';
  }
}

/** A byte count as people read it: 812 B, 3.4 MB. */
function bytes(n) {
  if (n == null || n < 0) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

async function loadRules() {
  try {
    const rules = await (await fetch('/v1/rules', { headers: auth })).json();
    const lines = [];
    for (const [t, r] of Object.entries(rules.tables)) lines.push(`table ${t}: keys ${r.keys.join(', ')}; tags ${r.tags.join(', ')}${r.mode === 'soft' ? ' (soft)' : ''}`);
    for (const [e, r] of Object.entries(rules.events)) lines.push(`event ${e}: keys ${r.keys.join(', ')}; tags ${r.tags.join(', ')}`);
    for (const [s, r] of Object.entries(rules.strategies)) lines.push(`type ${s}: ttl ${r.ttl ?? 'default'} s; tags ${r.tags.join(', ')}`);
    $('rules').textContent = lines.join('\n') || 'no rules';
  } catch (e) {
    $('rules').textContent = 'rules unavailable: ' + e.message;
  }
}

// ---- the invalidate form ----
const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
$('invalidate').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const body = { keys: list(form.get('keys')), tags: list(form.get('tags')), prefixes: list(form.get('prefixes')), reason: 'dashboard' };
  if (form.get('soft')) body.mode = 'soft';
  const res = await fetch('/v1/invalidations', { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  $('invalidate-result').textContent = res.ok ? `notice ${json.notice}: ${json.invalidated.length} key(s)` : `${res.status}: ${json.message}`;
});

refresh();
loadRules();
drawRate();
setInterval(refresh, 2000);
setInterval(drawRate, 1000);
