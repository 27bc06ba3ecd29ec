// Dashboard seed: shows every notice as it is streamed, and the gateway's counters.
// It uses only the public API: GET /v1/stats, GET /health and the /v1/stream WebSocket.
const MAX_ROWS = 200;
const token = new URLSearchParams(location.search).get('token') || sessionStorage.getItem('cachegate.token') || '';
if (token) sessionStorage.setItem('cachegate.token', token);
const headers = token ? { Authorization: 'Bearer ' + token } : {};

const $ = (id) => document.getElementById(id);
let seen = 0;
let position = null;

function setState(s) {
  $('state').textContent = s;
  $('state').dataset.state = s;
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function causeText(c) {
  if (!c) return '';
  if (c.source === 'db') return `db ${c.table || ''} ${c.op || ''}`.trim();
  if (c.source === 'event') return `event ${c.event || ''}`;
  return c.reason ? `api (${c.reason})` : 'api';
}

function show(frame) {
  const tr = document.createElement('tr');
  tr.className = 'notice';
  tr.dataset.id = frame.id;
  tr.append(cell(frame.id), cell(causeText(frame.cause)), cell(frame.keys.join(' ')),
    cell(frame.tags.join(' ')), cell(frame.prefixes.join(' ')));
  const body = $('tail').tBodies[0];
  body.prepend(tr);
  while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
  $('c-notices').textContent = String(++seen);
}

function connect(attempt = 0) {
  const url = new URL('/v1/stream', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) url.searchParams.set('token', token);
  setState('connecting');
  const ws = new WebSocket(url);
  ws.onopen = () => {
    attempt = 0;
    setState('connected');
    const sub = { type: 'subscribe', id: 'dashboard', all: true };
    if (position) sub.since = position;
    ws.send(JSON.stringify(sub));
  };
  ws.onmessage = (ev) => {
    const f = JSON.parse(ev.data);
    if (f.type === 'invalidate') { position = f.id; show(f); }
    else if (f.type === 'subscribed') position = f.position;
    else if (f.type === 'reset') position = null;
  };
  ws.onclose = () => {
    setState('disconnected');
    const delay = Math.min(10000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
    setTimeout(() => connect(attempt + 1), delay);
  };
}

async function refresh() {
  try {
    const stats = await (await fetch('/v1/stats', { headers })).json();
    $('c-clients').textContent = stats.clients;
    $('c-hits').textContent = stats.hits;
    $('c-misses').textContent = stats.misses;
    $('c-outbox').textContent = stats.capture && stats.capture.outboxDepth !== undefined ? stats.capture.outboxDepth : '–';
    const health = await fetch('/health');
    $('health').textContent = health.ok ? 'healthy' : 'degraded';
    $('health').dataset.ok = String(health.ok);
  } catch (e) {
    $('health').textContent = 'unreachable';
    $('health').dataset.ok = 'false';
  }
}

connect();
refresh();
setInterval(refresh, 2000);
