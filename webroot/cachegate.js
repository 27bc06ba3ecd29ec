// cachegate.js: a dependency-free client for the cachegate stream, for browsers and Node.
//
//   import { connect, createCache } from '/cachegate.js';
//   const client = connect({ url: 'ws://localhost:8080/v1/stream', token });
//   client.subscribe({ tags: ['products'] });
//   client.on('invalidate', (frame) => ...);
//   const cache = createCache(client);
//   const products = await cache.cachedFetch('/demo/products', { key: 'demo:products', tags: ['products'] });
//
// The client reconnects with jittered backoff and resumes with `since` from the last notice it saw;
// on `reset` (or a resume the history cannot serve) it tells its listeners to drop everything.
// The WebSocket constructor is injectable (`WebSocket` option) for Node or tests.

const FRAME_TYPES = new Set(['invalidate', 'reset', 'subscribed', 'unsubscribed', 'pong', 'error']);

class Emitter {
  constructor() { this._handlers = new Map(); }
  on(event, fn) {
    if (!this._handlers.has(event)) this._handlers.set(event, new Set());
    this._handlers.get(event).add(fn);
    return () => this.off(event, fn);
  }
  off(event, fn) { this._handlers.get(event)?.delete(fn); }
  emit(event, value) {
    for (const fn of [...(this._handlers.get(event) || [])]) {
      try { fn(value); } catch (e) { console.error('cachegate listener failed', e); }
    }
  }
}

/** Full-jitter exponential backoff: attempt n waits uniformly in [base, min(max, base * 2^n)]. */
export function backoffDelay(attempt, baseMs = 250, maxMs = 10000, random = Math.random) {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return baseMs + random() * (cap - baseMs);
}

/** Whether a notice frame concerns a cached entry: its key, one of its tags, or a prefix of its key. */
export function noticeCovers(frame, key, tags = []) {
  if ((frame.keys || []).includes(key)) return true;
  if ((frame.tags || []).some((t) => tags.includes(t))) return true;
  return (frame.prefixes || []).some((p) => key.startsWith(p));
}

export class Client extends Emitter {
  constructor({ url, token, all = false, WebSocket: WS = globalThis.WebSocket, baseDelayMs = 250, maxDelayMs = 10000 } = {}) {
    super();
    if (!url) throw new Error('cachegate: url is required');
    if (!WS) throw new Error('cachegate: no WebSocket constructor (pass one as the WebSocket option)');
    this.url = url;
    this.token = token;
    this.all = all; // every notice in full (dashboards, trusted services)
    this.WS = WS;
    this.baseDelayMs = baseDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.state = 'disconnected';
    this.position = null; // the last notice id seen, sent as `since` when resuming
    this.names = { keys: new Set(), tags: new Set(), prefixes: new Set() };
    this.socket = null;
    this._attempt = 0;
    this._closed = false;
    this._seq = 0;
    this._timer = null;
    this._open();
  }

  /** Adds names to follow; sent now if connected, and on every reconnect. */
  subscribe({ keys = [], tags = [], prefixes = [] } = {}) {
    const fresh = { keys: [], tags: [], prefixes: [] };
    for (const [kind, list] of Object.entries({ keys, tags, prefixes })) {
      for (const n of list) if (!this.names[kind].has(n)) { this.names[kind].add(n); fresh[kind].push(n); }
    }
    if (this.state === 'connected' && (fresh.keys.length || fresh.tags.length || fresh.prefixes.length)) {
      this._send({ type: 'subscribe', id: this._id(), ...fresh });
    }
  }

  unsubscribe({ keys = [], tags = [], prefixes = [] } = {}) {
    keys.forEach((k) => this.names.keys.delete(k));
    tags.forEach((t) => this.names.tags.delete(t));
    prefixes.forEach((p) => this.names.prefixes.delete(p));
    if (this.state === 'connected') this._send({ type: 'unsubscribe', id: this._id(), keys, tags, prefixes });
  }

  close() {
    this._closed = true;
    clearTimeout(this._timer);
    if (this.socket) this.socket.close(1000, 'client closed');
    this._setState('disconnected');
  }

  _id() { return 'c' + (++this._seq); }

  _setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  _open() {
    if (this._closed) return;
    this._setState('connecting');
    if (typeof this.token !== 'function') {
      this._dial(this.token);
      return;
    }
    // asked on every (re)connect, so an expired stream token (close 4001) is replaced by a fresh one
    Promise.resolve().then(() => this.token()).then(
      (token) => { if (!this._closed) this._dial(token); },
      (e) => {
        this.emit('error', { type: 'error', code: 'token_unavailable', message: String((e && e.message) || e) });
        this._retry();
      });
  }

  _dial(token) {
    const u = new URL(this.url, globalThis.location ? globalThis.location.href : undefined);
    if (token) u.searchParams.set('token', token);
    const ws = new this.WS(u.toString());
    this.socket = ws;
    let resumed = null;
    ws.onopen = () => {
      this._attempt = 0;
      this._setState('connected');
      const all = { keys: [...this.names.keys], tags: [...this.names.tags], prefixes: [...this.names.prefixes] };
      resumed = this.position;
      const frame = { type: 'subscribe', id: this._id(), ...all };
      if (this.all) frame.all = true;
      if (resumed) frame.since = resumed;
      this._send(frame);
    };
    ws.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data)); } catch { return; }
      if (!f || !FRAME_TYPES.has(f.type)) return;
      if (f.type === 'invalidate') {
        this.position = f.id;
        this.emit('invalidate', f);
      } else if (f.type === 'reset') {
        this.emit('reset', f);
      } else if (f.type === 'subscribed') {
        if (!this.position || f.position > this.position) this.position = f.position;
        // a resume the history could not serve is preceded by a reset frame, which already fired 'reset'
        this.emit('subscribed', f);
      } else if (f.type === 'error') {
        this.emit('error', f);
      }
    };
    ws.onclose = (ev) => {
      if (this.socket !== ws) return;
      this.socket = null;
      // 1001 going away or unresponsive, 1008 malformed frames, 1009 frame too big, 1013 too slow,
      // 4001 token expired: every one of them is followed by a reconnect
      this.emit('close', { code: ev && ev.code, reason: ev && ev.reason });
      this._setState('disconnected');
      this._retry();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  _retry() {
    if (this._closed) return;
    this._setState('disconnected');
    const delay = backoffDelay(this._attempt++, this.baseDelayMs, this.maxDelayMs);
    this._timer = setTimeout(() => this._open(), delay);
  }

  _send(frame) {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(frame));
  }

  /** Follows every notice in full (or stops); sent now if connected, and on every reconnect. */
  setAll(on) {
    if (this.all === !!on) return;
    this.all = !!on;
    if (this.state === 'connected') this._send({ type: on ? 'subscribe' : 'unsubscribe', id: this._id(), all: true });
  }
}

// ---- one socket per browser: the tabs of an origin share one stream connection ----
//
// The tabs that connect to the same stream URL with the same token elect one holder of the WebSocket
// (Web Locks: the lock is the socket; without them, the holder beats on the channel and a tab that
// stops hearing it claims). The holder subscribes to the union of every tab's names and forwards each
// frame on a BroadcastChannel; each tab hands its listeners only the notices that concern its own
// names. Every tab keeps the same picture of who follows what (subscriptions are broadcast), so the
// tab that takes over opens the socket with the union at once, and resumes with `since` from the last
// notice it saw: no tab misses a notice across a handover.

const BEAT_MS = 500;        // the holder's heartbeat, without Web Locks
const SILENCE_MS = 1500;    // no beat for this long: the holder is gone, claim
const CLAIM_MS = 150;       // a claim stands if no tab with a smaller id claims within this
const ROLL_MS = 1000;       // a new holder drops the names of tabs that did not answer its roll call within this

function randomId() {
  const c = globalThis.crypto;
  if (c && c.randomUUID) return c.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

/** FNV-1a of a string, in hex: a channel name must not carry the token itself. */
function fnv(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h.toString(16);
}

const KINDS = ['keys', 'tags', 'prefixes'];

export class SharedClient extends Emitter {
  constructor(options, { BroadcastChannel: BC, locks = null } = {}) {
    super();
    if (!options || !options.url) throw new Error('cachegate: url is required');
    this.options = { ...options };
    this.url = options.url;
    this.all = !!options.all;
    this.tab = randomId();
    this.names = { keys: new Set(), tags: new Set(), prefixes: new Set() };
    this.state = 'connecting';
    this.position = null;
    this.holder = null;      // the holding tab's id, when known
    this.inner = null;       // the real Client, while this tab holds the socket
    this.tabs = new Map();   // every tab's names, as broadcast: id -> {keys, tags, prefixes, all}
    this.tabs.set(this.tab, this._mine());
    this._seen = new Map();  // when each tab last broadcast its names
    const base = new URL(options.url, globalThis.location ? globalThis.location.href : undefined).toString();
    const key = 'cachegate:' + base + (typeof options.token === 'string' && options.token ? ':' + fnv(options.token) : '');
    this.channel = new BC(key);
    this.channel.onmessage = (ev) => this._receive(ev.data);
    this._closed = false;
    this._locks = locks;
    this._lockName = key;
    this._post({ t: 'hello', from: this.tab, names: this._mine() });
    // a closing tab says goodbye, so the others take over at once and drop its names
    if (typeof globalThis.addEventListener === 'function') globalThis.addEventListener('pagehide', () => this.close());
    if (locks) {
      locks.request(key, { mode: 'exclusive' }, () => new Promise((release) => {
        this._release = release;
        if (this._closed) release(); else this._become();
      }));
    } else {
      this._lastBeat = Date.now() - SILENCE_MS + 2 * CLAIM_MS; // a holder answers hello at once
      this._watch = setInterval(() => this._check(), BEAT_MS / 2);
    }
  }

  subscribe({ keys = [], tags = [], prefixes = [] } = {}) {
    for (const [kind, list] of Object.entries({ keys, tags, prefixes })) for (const n of list) this.names[kind].add(n);
    this._changed();
  }

  unsubscribe({ keys = [], tags = [], prefixes = [] } = {}) {
    keys.forEach((k) => this.names.keys.delete(k));
    tags.forEach((t) => this.names.tags.delete(t));
    prefixes.forEach((p) => this.names.prefixes.delete(p));
    this._changed();
  }

  /** Whether this tab holds the browser's stream connection. */
  get holding() { return this.inner !== null; }

  close() {
    if (this._closed) return;
    this._closed = true;
    clearInterval(this._watch);
    clearInterval(this._beat);
    this._post({ t: 'bye', from: this.tab, holder: this.holding });
    if (this.inner) { this.inner.close(); this.inner = null; }
    if (this._release) this._release();
    this.channel.close();
    this._setState('disconnected');
  }

  // ---- names ----

  _mine() { return { keys: [...this.names.keys], tags: [...this.names.tags], prefixes: [...this.names.prefixes], all: this.all }; }

  _changed() {
    this.tabs.set(this.tab, this._mine());
    this._post({ t: 'names', from: this.tab, names: this._mine() });
    this._sync();
  }

  /** The holder: the socket follows the union of every tab's names. */
  _sync() {
    if (!this.inner) return;
    const union = { keys: new Set(), tags: new Set(), prefixes: new Set() };
    let all = false;
    for (const n of this.tabs.values()) {
      for (const kind of KINDS) for (const x of n[kind]) union[kind].add(x);
      all = all || n.all;
    }
    const gone = { keys: [], tags: [], prefixes: [] };
    for (const kind of KINDS) for (const x of this.inner.names[kind]) if (!union[kind].has(x)) gone[kind].push(x);
    if (gone.keys.length || gone.tags.length || gone.prefixes.length) this.inner.unsubscribe(gone);
    this.inner.subscribe({ keys: [...union.keys], tags: [...union.tags], prefixes: [...union.prefixes] });
    this.inner.setAll(all);
  }

  /** Whether a notice concerns this tab: one of its keys, a key under one of its prefixes, one of its tags. */
  _covers(f) {
    if (this.all) return true;
    for (const k of f.keys || []) {
      if (this.names.keys.has(k)) return true;
      for (const p of this.names.prefixes) if (k.startsWith(p)) return true;
    }
    for (const t of f.tags || []) if (this.names.tags.has(t)) return true;
    for (const p of f.prefixes || []) {
      if (this.names.prefixes.has(p)) return true;
      for (const k of this.names.keys) if (k.startsWith(p)) return true;
    }
    return false;
  }

  // ---- holding the socket ----

  _become() {
    if (this._closed || this.inner) return;
    this.holder = this.tab;
    const inner = new Client({ ...this.options, all: false });
    inner.position = this.position; // resume where this tab's notices end: what the last holder had not forwarded is replayed
    this.inner = inner;
    this._sync();
    for (const event of ['invalidate', 'reset', 'subscribed', 'error', 'close']) {
      inner.on(event, (frame) => {
        if (this.inner !== inner) return;
        this._post({ t: 'frame', from: this.tab, event, frame });
        this._deliver(event, frame);
      });
    }
    inner.on('state', (state) => {
      if (this.inner !== inner) return;
      this._post({ t: 'state', from: this.tab, state });
      this._setState(state);
    });
    this._setState(inner.state);
    this._post({ t: 'holder', from: this.tab, state: inner.state });
    // a tab that died without saying goodbye (a crash, a killed process) still has names in the table:
    // every live tab answers the roll call, and the names of those that do not are dropped
    const rollAt = Date.now();
    this._post({ t: 'roll', from: this.tab });
    setTimeout(() => {
      if (this.inner !== inner) return;
      for (const id of [...this.tabs.keys()]) if (id !== this.tab && !((this._seen.get(id) || 0) >= rollAt)) this.tabs.delete(id);
      this._sync();
    }, ROLL_MS);
    if (!this._locks) this._beat = setInterval(() => this._post({ t: 'beat', from: this.tab }), BEAT_MS);
  }

  _stepDown() {
    clearInterval(this._beat);
    if (this.inner) { const i = this.inner; this.inner = null; i.close(); }
  }

  // ---- the channel ----

  _post(m) {
    try { this.channel.postMessage(m); } catch { /* closed */ }
  }

  _receive(m) {
    if (!m || m.from === this.tab || this._closed) return;
    switch (m.t) {
      case 'roll':
        this._post({ t: 'names', from: this.tab, names: this._mine() });
        break;
      case 'hello':
        this._seen.set(m.from, Date.now());
        this.tabs.set(m.from, m.names);
        this._post({ t: 'names', from: this.tab, names: this._mine() });
        if (this.inner) { this._post({ t: 'holder', from: this.tab, state: this.inner.state }); this._sync(); }
        break;
      case 'names':
        this._seen.set(m.from, Date.now());
        this.tabs.set(m.from, m.names);
        this._sync();
        break;
      case 'bye':
        this.tabs.delete(m.from);
        this._seen.delete(m.from);
        this._sync();
        if (m.holder && this.holder === m.from) {
          this.holder = null;
          this._lastBeat = 0; // claim at the next check (Web Locks hand the lock over by themselves)
          if (!this._locks) this._check();
        }
        break;
      case 'holder':
      case 'beat':
        this._heard(m.from);
        if (m.t === 'holder' && m.state) this._setState(m.state);
        break;
      case 'claim':
        if (this.inner && !this._locks) this._post({ t: 'beat', from: this.tab }); // a holder is here
        else if (this._claim && m.from < this.tab) this._claim = null;       // a smaller id claims first
        break;
      case 'state':
        this._heard(m.from);
        this._setState(m.state);
        break;
      case 'frame':
        this._heard(m.from);
        this._deliver(m.event, m.frame);
        break;
      default:
    }
  }

  _heard(holder) {
    this._lastBeat = Date.now();
    this._claim = null;
    if (this.inner && holder !== this.tab && !this._locks) {
      if (holder < this.tab) this._stepDown(); else return; // two holders (a partition healed): the smaller id keeps it
    }
    this.holder = holder;
  }

  /** Without Web Locks: claim the socket when the holder has been silent; the claim stands unless a smaller id claims too. */
  _check() {
    if (this._closed || this.inner) return;
    const now = Date.now();
    if (this._claim) {
      if (now - this._claim >= CLAIM_MS) { this._claim = null; this._become(); }
      return;
    }
    if (now - this._lastBeat >= SILENCE_MS) {
      this._claim = now;
      this._post({ t: 'claim', from: this.tab });
      setTimeout(() => this._check(), CLAIM_MS);
    }
  }

  _deliver(event, frame) {
    if (event === 'invalidate') {
      if (this.position && frame.id <= this.position) return; // already delivered (a replay across a handover)
      this.position = frame.id;
      if (this._covers(frame)) this.emit('invalidate', frame);
      return;
    }
    if (event === 'subscribed' && frame.position && (!this.position || frame.position > this.position)) this.position = frame.position;
    this.emit(event, frame);
  }

  _setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }
}

/**
 * A stream client. In a browser, the tabs of one origin share one connection by default (`shared:
 * false` opts out); elsewhere (Node) each client has its own unless `shared: true`. Without
 * BroadcastChannel it is always one socket per client.
 */
export function connect(options = {}) {
  const BC = 'BroadcastChannel' in options ? options.BroadcastChannel : globalThis.BroadcastChannel;
  const shared = options.shared ?? (typeof document !== 'undefined');
  if (!shared || !BC) return new Client(options);
  const locks = options.locks === undefined ? (globalThis.navigator && globalThis.navigator.locks) || null : options.locks;
  return new SharedClient(options, { BroadcastChannel: BC, locks });
}

/**
 * A local cache kept in step with the gateway. cachedFetch(url, {key, tags}) answers from memory
 * (or localStorage) until a notice names the key, one of its tags or a prefix of the key; then the
 * entry is dropped and the next call refetches (revalidating with If-None-Match when it has an ETag).
 * A soft notice keeps the copy, marked stale, until the refetch lands. A reset drops everything.
 * A response that was in flight when a notice for its key arrived is not kept: it may predate the change.
 */
export function createCache(client, { storage = null, fetch: fetchFn = globalThis.fetch, headers = {} } = {}) {
  const entries = new Map(); // key -> {url, tags, etag, body, stale}
  const generation = new Map(); // key -> count of notices that named it
  const inflight = new Map(); // key -> the refetch under way
  let resets = 0;

  const load = () => {
    if (!storage) return;
    for (let i = 0; i < storage.length; i++) {
      const k = storage.key(i);
      if (!k || !k.startsWith('cachegate:')) continue;
      try { entries.set(k.slice(10), JSON.parse(storage.getItem(k))); } catch { /* ignore a bad item */ }
    }
  };
  const save = (key, e) => storage && storage.setItem('cachegate:' + key, JSON.stringify(e));
  const forget = (key) => {
    entries.delete(key);
    if (storage) storage.removeItem('cachegate:' + key);
  };

  client.on('invalidate', (f) => {
    for (const [key, e] of [...entries]) {
      if (!noticeCovers(f, key, e.tags)) continue;
      generation.set(key, (generation.get(key) || 0) + 1);
      if (f.soft) { e.stale = true; save(key, e); } else forget(key);
    }
    for (const k of f.keys || []) generation.set(k, (generation.get(k) || 0) + 1);
  });
  client.on('reset', () => {
    resets++;
    for (const key of [...entries.keys()]) forget(key);
    generation.clear();
  });
  load();

  async function refetch(url, key, tags, previous) {
    const gen = generation.get(key) || 0;
    const resetsAtStart = resets;
    const h = { ...headers };
    if (previous && previous.etag) h['If-None-Match'] = previous.etag;
    const res = await fetchFn(url, { headers: h });
    let body;
    let etag = res.headers.get('ETag');
    if (res.status === 304 && previous) {
      body = previous.body;
      etag = etag || previous.etag;
    } else if (res.ok) {
      body = (res.headers.get('Content-Type') || '').includes('json') ? await res.json() : await res.text();
    } else {
      throw new Error(`cachegate: ${url} answered ${res.status}`);
    }
    const changedMeanwhile = (generation.get(key) || 0) !== gen || resets !== resetsAtStart;
    if (!changedMeanwhile) {
      const e = { url, tags, etag, body, stale: false };
      entries.set(key, e);
      save(key, e);
      return body;
    }
    // a notice arrived while this response was in flight: it may predate the change, so fetch again
    return refetch(url, key, tags, null);
  }

  return {
    entries,
    /** The response body for url, from the cache when nothing invalidated it. */
    async cachedFetch(url, { key = url, tags = [] } = {}) {
      client.subscribe({ keys: [key], tags });
      const e = entries.get(key);
      if (e && !e.stale) return e.body;
      if (!inflight.has(key)) {
        const p = refetch(url, key, tags, e || null).finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      if (e && e.stale) {
        inflight.get(key).catch(() => {}); // keep showing the stale copy until the refetch lands
        return e.body;
      }
      return inflight.get(key);
    },
    drop: forget,
    clear() { for (const key of [...entries.keys()]) forget(key); },
  };
}
