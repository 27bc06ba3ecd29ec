// The demo page: a product list rendered from cachedFetch and kept live by the stream.
import { connect, createCache, noticeCovers } from './cachegate.js';

const token = sessionStorage.getItem('cachegate.token') || '';
const streamUrl = new URL('/v1/stream', location.href);
streamUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
const client = connect({ url: streamUrl.toString(), token });
globalThis.cachegateClient = client; // for the console, and the browser tests
const headers = token ? { Authorization: 'Bearer ' + token } : {};
const cache = createCache(client, { headers });
const KEY = 'demo:products';
const TAGS = ['products'];
let fetches = 0;
const $ = (id) => document.getElementById(id);

client.on('state', (s) => {
  $('state').textContent = s;
  $('state').dataset.state = s;
});

async function render() {
  const had = cache.entries.has(KEY) && !cache.entries.get(KEY).stale;
  const data = await cache.cachedFetch('/demo/products', { key: KEY, tags: TAGS });
  if (!had) $('fetches').textContent = String(++fetches);
  const body = $('products').tBodies[0];
  body.replaceChildren(...data.products.slice(0, 20).map((p) => {
    const tr = document.createElement('tr');
    const td = (text) => { const c = document.createElement('td'); c.textContent = text; return c; };
    const price = td(p.price.toFixed(2));
    price.dataset.priceId = String(p.id);
    const button = document.createElement('button');
    button.textContent = '+1';
    button.dataset.bump = String(p.id);
    button.addEventListener('click', () => fetch(`/demo/products/${p.id}/bump`, { method: 'POST', headers }));
    const action = document.createElement('td');
    action.append(button);
    tr.append(td(p.id), td(p.name), price, td(p.category_id), action);
    return tr;
  }));
}

client.on('invalidate', (f) => {
  if (noticeCovers(f, KEY, TAGS)) render();
});
client.on('reset', () => render());
render();
