// The shared socket: tabs of one browser simulated as clients in one Node process, on a real
// BroadcastChannel (Node 20 has one). Without a gateway: a fake WebSocket records what the holder
// sends and plays the server's frames. With one (NodeClientIT sets CACHEGATE_HTTP): the gateway's own
// connection count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../cachegate.js';

/** Polls a condition until it holds, or fails after ms. */
async function until(what, cond, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A WebSocket stand-in: opens at once, records frames sent, lets the test play server frames. */
function fakeServer() {
  const sockets = [];
  class FakeWS {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.readyState = 0;
      sockets.push(this);
      setTimeout(() => { if (this.readyState === 0) { this.readyState = 1; this.onopen && this.onopen(); } }, 1);
    }
    send(text) { this.sent.push(JSON.parse(text)); }
    close() {
      if (this.readyState === 3) return;
      this.readyState = 3;
      setTimeout(() => this.onclose && this.onclose({ code: 1000 }), 0);
    }
    play(frame) { this.onmessage({ data: JSON.stringify(frame) }); }
    names(kind) { return this.sent.filter((f) => f.type === 'subscribe').flatMap((f) => f[kind] || []); }
  }
  return { FakeWS, sockets, open: () => sockets.filter((s) => s.readyState === 1) };
}

/** A Web Locks stand-in shared by the tabs: one holder per name, the next waiter gets it on release. */
function fakeLocks() {
  const held = new Map();
  return {
    request(name, opts, cb) {
      return new Promise((done) => {
        const run = () => {
          held.set(name, []);
          Promise.resolve(cb()).then(() => {
            const waiting = held.get(name);
            held.delete(name);
            done();
            if (waiting.length) waiting.shift()();
            for (const w of waiting) held.get(name) ? held.get(name).push(w) : w();
          });
        };
        if (held.has(name)) held.get(name).push(run); else run();
      });
    },
  };
}

const id = (n) => String(n).padStart(16, '0') + '-' + '0'.repeat(10);
const notice = (n, names) => ({ type: 'invalidate', id: id(n), keys: [], tags: [], prefixes: [], cause: { source: 'api' }, at: n, ...names });

for (const election of ['BroadcastChannel', 'Web Locks']) {
  test(`two tabs share one socket, each hears its own names, and the other takes over (${election})`, async () => {
    const server = fakeServer();
    const locks = election === 'Web Locks' ? fakeLocks() : null;
    const url = 'ws://gateway.test/v1/stream?election=' + election.replace(' ', '');
    const opts = { url, shared: true, WebSocket: server.FakeWS, locks, baseDelayMs: 10, maxDelayMs: 20 };
    const a = connect(opts);
    const b = connect(opts);
    const heard = { a: [], b: [] };
    a.on('invalidate', (f) => heard.a.push(f.id));
    b.on('invalidate', (f) => heard.b.push(f.id));
    try {
      a.subscribe({ keys: ['a:1'], prefixes: ['cart:a:'] });
      b.subscribe({ tags: ['t:b'] });
      await until('one open socket with both tabs\' names', () => server.open().length === 1
        && server.open()[0].names('keys').includes('a:1') && server.open()[0].names('tags').includes('t:b'));
      // two tabs may both claim under load; the election settles on one, and one socket stays open
      await until('one holder', () => [a, b].filter((c) => c.holding).length === 1 && server.open().length === 1);
      await until('both tabs connected', () => a.state === 'connected' && b.state === 'connected');

      const ws = server.open()[0];
      ws.play(notice(1, { keys: ['a:1'] }));
      ws.play(notice(2, { tags: ['t:b'] }));
      ws.play(notice(3, { prefixes: ['cart:a:'] }));
      ws.play(notice(4, { keys: ['a:1'], tags: ['t:b'] }));
      await until('the notices delivered', () => heard.a.length === 3 && heard.b.length === 2);
      assert.deepEqual(heard.a, [id(1), id(3), id(4)]);
      assert.deepEqual(heard.b, [id(2), id(4)]);

      // the holder goes away: the other tab opens the socket, with its names, resuming after notice 4
      const holder = a.holding ? a : b;
      const other = holder === a ? b : a;
      const otherName = other === a ? 'a' : 'b';
      holder.close();
      await until('the other tab to hold a socket of its own', () => other.holding && server.open().length === 1 && server.open()[0] !== ws, 3000);
      const next = server.open()[0];
      await until('its subscribe', () => next.sent.some((f) => f.type === 'subscribe'));
      const sub = next.sent.find((f) => f.type === 'subscribe');
      assert.equal(sub.since, id(4), 'resumes after the last notice seen');
      if (other === a) assert.ok(sub.keys.includes('a:1')); else assert.ok(sub.tags.includes('t:b'));
      // the closed tab's names go: never subscribed, or (with Web Locks the lock can pass before its
      // goodbye is read) unsubscribed once the goodbye arrives
      const [kind, name] = other === a ? ['tags', 't:b'] : ['keys', 'a:1'];
      await until('the closed tab\'s names to go', () => !next.names(kind).includes(name)
        || next.sent.some((f) => f.type === 'unsubscribe' && (f[kind] || []).includes(name)));
      // the replay and the live notices reach it; a replayed notice it had is not delivered twice
      next.play(notice(4, { keys: ['a:1'], tags: ['t:b'] }));
      next.play(notice(5, { keys: ['a:1'], tags: ['t:b'] }));
      await until('notice 5', () => heard[otherName].includes(id(5)));
      assert.equal(heard[otherName].filter((x) => x === id(4)).length, 1);
    } finally {
      a.close();
      b.close();
    }
  });
}

test('a tab that dies without a goodbye loses its names when the next holder takes over', async () => {
  const server = fakeServer();
  const opts = { url: 'ws://gateway.test/v1/stream?crash', shared: true, WebSocket: server.FakeWS, locks: null, baseDelayMs: 10, maxDelayMs: 20 };
  const a = connect(opts);
  await until('a to hold the socket', () => a.holding && server.open().length === 1);
  const b = connect(opts);
  const c = connect(opts);
  try {
    b.subscribe({ keys: ['b:1'] });
    c.subscribe({ keys: ['c:1'] });
    await until('the names of b and c on the socket', () => server.open()[0].names('keys').includes('b:1') && server.open()[0].names('keys').includes('c:1'));
    // c crashes: its channel and timers go, no goodbye
    clearInterval(c._watch);
    c._closed = true;
    c.channel.close();
    a.close();
    await until('b to hold a socket of its own', () => b.holding && server.open().length === 1, 3000);
    const next = server.open()[0];
    await until('c:1 unsubscribed after the roll call', () => next.sent.some((f) => f.type === 'unsubscribe' && (f.keys || []).includes('c:1')), 3000);
    assert.ok(!next.sent.some((f) => f.type === 'unsubscribe' && (f.keys || []).includes('b:1')));
  } finally {
    a.close();
    b.close();
  }
});

test('shared: false, or no BroadcastChannel, is one socket per client', () => {
  const server = fakeServer();
  const a = connect({ url: 'ws://gateway.test/v1/stream?solo', shared: false, WebSocket: server.FakeWS });
  const b = connect({ url: 'ws://gateway.test/v1/stream?solo', shared: true, BroadcastChannel: null, WebSocket: server.FakeWS });
  const c = connect({ url: 'ws://gateway.test/v1/stream?solo', WebSocket: server.FakeWS }); // Node: not shared unless asked
  try {
    assert.equal(server.sockets.length, 3);
  } finally {
    a.close();
    b.close();
    c.close();
  }
});

const HTTP = process.env.CACHEGATE_HTTP;
const live = { skip: HTTP ? false : 'CACHEGATE_HTTP is not set (NodeClientIT sets it)' };

test('tabs sharing a socket are one connection at the gateway, and a notice during a handover arrives', live, async () => {
  const stats = async () => (await (await fetch(HTTP + '/v1/stats')).json());
  const before = await stats();
  const url = HTTP.replace(/^http/, 'ws') + '/v1/stream';
  const opts = { url, shared: true, baseDelayMs: 50, maxDelayMs: 200 };
  const tabs = [connect(opts), connect(opts), connect(opts)];
  const heard = tabs.map(() => []);
  tabs.forEach((t, i) => { t.subscribe({ keys: ['shared:' + i, 'shared:all'] }); t.on('invalidate', (f) => heard[i].push(...f.keys)); });
  const post = (keys) => fetch(HTTP + '/v1/invalidations', { method: 'POST', body: JSON.stringify({ keys }) });
  // a condition on the gateway's own figures, asked again until it holds
  async function gateway(what, cond, ms = 5000) {
    const end = Date.now() + ms;
    for (;;) {
      const s = await stats();
      if (cond(s)) return s;
      if (Date.now() > end) throw new Error('timed out waiting for ' + what + ': ' + JSON.stringify(s));
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    await until('the tabs connected', () => tabs.every((t) => t.state === 'connected'));
    await gateway('one connection following the four names of three tabs',
      (s) => s.connections === before.connections + 1 && s.subscriptions === before.subscriptions + 4);
    const holder = tabs.findIndex((t) => t.holding);
    const rest = [0, 1, 2].filter((i) => i !== holder);
    await post(['shared:' + rest[0]]);
    await post(['shared:all']);
    await until('the notices', () => rest.every((i) => heard[i].includes('shared:all')));
    assert.ok(heard[rest[0]].includes('shared:' + rest[0]));
    assert.ok(!heard[rest[1]].includes('shared:' + rest[0]), 'a tab hears only its own names');
    // the holder goes away and a change is committed at once, while no tab holds the socket
    tabs[holder].close();
    await post(['shared:' + rest[1]]);
    await until('the change made during the handover, in the tab that follows it', () => heard[rest[1]].includes('shared:' + rest[1]), 5000);
    assert.ok(rest.some((i) => tabs[i].holding));
    await gateway('still one connection, without the closed tab\'s name',
      (s) => s.connections === before.connections + 1 && s.subscriptions === before.subscriptions + 3);
  } finally {
    tabs.forEach((t) => t.close());
  }
});
