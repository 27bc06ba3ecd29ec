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
}

export function connect(options) {
  return new Client(options);
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
