// Node tests of cachegate.js against a real gateway (started by NodeClientIT, which sets CACHEGATE_HTTP).
// Run: node --experimental-websocket --test webroot/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createCache, backoffDelay, noticeCovers } from '../cachegate.js';

const HTTP = process.env.CACHEGATE_HTTP;
const WS = HTTP ? HTTP.replace(/^http/, 'ws') + '/v1/stream' : null;
const live = { skip: HTTP ? false : 'CACHEGATE_HTTP is not set (NodeClientIT sets it)' };

async function call(method, path, body) {
  const res = await fetch(HTTP + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const invalidate = async (body) => (await call('POST', '/v1/invalidations', body)).json.notice;

/** The next event of a kind that satisfies pred, or a failure after ms. */
function next(client, event, pred = () => true, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no ${event} within ${ms} ms`)); }, ms);
    const off = client.on(event, (v) => {
      if (!pred(v)) return;
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

async function connected(names) {
  const c = connect({ url: WS, baseDelayMs: 50, maxDelayMs: 200 });
  c.subscribe(names);
  await next(c, 'subscribed');
  return c;
}

test('backoff is jittered and capped', () => {
  assert.equal(backoffDelay(0, 100, 1000, () => 0), 100);
  assert.equal(backoffDelay(10, 100, 1000, () => 1), 1000);
  assert.ok(backoffDelay(3, 100, 1000, () => 0.5) <= 800);
});

test('cachegate.d.ts declares every export of cachegate.js', async () => {
  const mod = await import('../cachegate.js');
  const { readFileSync } = await import('node:fs');
  const dts = readFileSync(new URL('../cachegate.d.ts', import.meta.url), 'utf8');
  for (const name of Object.keys(mod)) assert.match(dts, new RegExp(`export declare (function|class) ${name}\\b`), name);
});

test('a notice covers a key by name, tag or prefix', () => {
  assert.ok(noticeCovers({ keys: ['a'] }, 'a'));
  assert.ok(noticeCovers({ tags: ['t'] }, 'x', ['t']));
  assert.ok(noticeCovers({ prefixes: ['user:1:'] }, 'user:1:profile'));
  assert.ok(!noticeCovers({ keys: ['b'], tags: ['u'], prefixes: ['z'] }, 'a', ['t']));
});

test('subscribe and receive only what was asked for', live, async () => {
  const c = await connected({ keys: ['node:sub:1'] });
  try {
    const got = next(c, 'invalidate');
    await invalidate({ keys: ['node:sub:other'] });
    const id = await invalidate({ keys: ['node:sub:1', 'node:sub:2'] });
    const f = await got;
    assert.equal(f.id, id);
    assert.deepEqual(f.keys, ['node:sub:1']);
  } finally {
    c.close();
  }
});

test('cachedFetch keeps a copy until a notice drops it', live, async () => {
  const c = await connected({});
  const cache = createCache(c);
  try {
    await call('PUT', '/v1/entries/node:drop', { value: 'v1' });
    const subscribed = next(c, 'subscribed'); // cachedFetch subscribes the key
    const first = await cache.cachedFetch(HTTP + '/v1/entries/node:drop', { key: 'node:drop' });
    assert.equal(first.value, 'v1');
    await subscribed;
    const dropped = next(c, 'invalidate', (f) => f.keys.includes('node:drop'));
    await invalidate({ keys: ['node:drop'] });
    await dropped;
    assert.ok(!cache.entries.has('node:drop'));
    await call('PUT', '/v1/entries/node:drop', { value: 'v2' });
    assert.equal((await cache.cachedFetch(HTTP + '/v1/entries/node:drop', { key: 'node:drop' })).value, 'v2');
    await call('PUT', '/v1/entries/node:drop', { value: 'v3' }); // a write without a notice
    assert.equal((await cache.cachedFetch(HTTP + '/v1/entries/node:drop', { key: 'node:drop' })).value, 'v2',
      'no notice: served from the local copy');
  } finally {
    c.close();
  }
});

test('resume after the socket is killed loses no notice', live, async () => {
  const c = await connected({ tags: ['node:resume'] });
  try {
    const first = next(c, 'invalidate');
    await invalidate({ tags: ['node:resume'] });
    await first;
    const down = next(c, 'state', (s) => s === 'disconnected');
    c.socket.close(); // the connection dies; the client is not closed
    await down;
    // listen before posting: the client may reconnect and replay while the posts are still going
    const heard = [];
    let check = () => {};
    c.on('invalidate', (f) => { heard.push(f.id); check(); });
    const missed = [];
    for (let i = 0; i < 5; i++) missed.push(await invalidate({ tags: ['node:resume'] }));
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('missed notices: heard ' + heard + ', posted ' + missed)), 10000);
      check = () => { if (missed.every((id) => heard.includes(id))) { clearTimeout(timer); resolve(); } };
      check();
    });
    assert.deepEqual(heard.slice(0, 5), missed, 'in order, none lost');
  } finally {
    c.close();
  }
});

test('a token function is asked again on every reconnect', live, async () => {
  let asked = 0;
  const c = connect({ url: WS, baseDelayMs: 50, maxDelayMs: 200, token: async () => { asked++; return 'token-' + asked; } });
  try {
    c.subscribe({ keys: ['node:token'] });
    await next(c, 'subscribed');
    assert.equal(asked, 1);
    const closed = next(c, 'close');
    c.socket.close(4000, 'test'); // the connection ends; the client is not closed
    assert.equal((await closed).code, 4000);
    await next(c, 'subscribed');
    assert.equal(asked, 2, 'a fresh token for the new connection');
  } finally {
    c.close();
  }
});

test('a reset drops every cached copy', live, async () => {
  const c = await connected({});
  const cache = createCache(c);
  try {
    await call('PUT', '/v1/entries/node:reset', { value: 1 });
    await cache.cachedFetch(HTTP + '/v1/entries/node:reset', { key: 'node:reset' });
    assert.ok(cache.entries.has('node:reset'));
    c.position = '0000000000001-0000000000'; // a position the history no longer reaches
    const reset = next(c, 'reset');
    c.socket.close();
    await reset;
    assert.equal(cache.entries.size, 0);
  } finally {
    c.close();
  }
});

test('cachedFetch never serves a copy older than the last notice it received', live, async () => {
  const c = await connected({});
  const cache = createCache(c);
  const url = HTTP + '/v1/entries/node:fresh';
  try {
    await call('PUT', '/v1/entries/node:fresh', { value: 0 });
    const subscribed = next(c, 'subscribed');
    await cache.cachedFetch(url, { key: 'node:fresh' });
    await subscribed;
    for (let i = 1; i <= 30; i++) {
      const heard = next(c, 'invalidate', (f) => f.keys.includes('node:fresh'));
      cache.drop('node:fresh');
      const reading = cache.cachedFetch(url, { key: 'node:fresh' }).catch(() => null); // in flight across the notice
      await invalidate({ keys: ['node:fresh'] });
      await heard;
      await call('PUT', '/v1/entries/node:fresh', { value: i });
      await reading;
      const after = await cache.cachedFetch(url, { key: 'node:fresh' });
      assert.equal(after.value, i, `after notice ${i}: a response from before it must not be kept`);
    }
  } finally {
    c.close();
  }
});
