// Compiled (never run) by `tsc --noEmit -p webroot/test/tsconfig.json`: the documented uses of
// cachegate.js type-check against cachegate.d.ts, and misuses do not (each @ts-expect-error must
// be an error, or tsc fails).
import { connect, createCache, noticeCovers, backoffDelay, Client, SharedClient } from '../cachegate.js';
import type { InvalidateFrame, StreamClient, State } from '../cachegate.js';

const client = connect({ url: '/v1/stream', token: async () => 'a token', shared: true });
client.subscribe({ keys: ['user:42:profile'], tags: ['user:42'], prefixes: ['cart:42:'] });
const off = client.on('invalidate', (f: InvalidateFrame) => console.log(f.id, f.keys, f.cause.source, f.soft === true));
client.on('state', (s: State) => s === 'connected');
client.on('close', (e) => e.code);
off();
if (client instanceof SharedClient) console.log(client.holding);
if (client instanceof Client) client.setAll(true);

const cache = createCache(client as StreamClient, { headers: { Authorization: 'Bearer x' } });
const profile: Promise<{ name: string }> = cache.cachedFetch<{ name: string }>('/api/users/42', { key: 'user:42:profile', tags: ['user:42'] });
void profile;
cache.drop('user:42:profile');
const covers: boolean = noticeCovers({ keys: ['a'], tags: [], prefixes: [] }, 'a');
const wait: number = backoffDelay(3);
void covers;
void wait;

// @ts-expect-error: an unknown event
client.on('message', () => {});
// @ts-expect-error: names are lists
client.subscribe({ keys: 'user:42:profile' });
// @ts-expect-error: the url is required
connect({ token: 'x' });
