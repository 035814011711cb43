// The console's service worker (PWA, issue #13): the app shell is cached so the console opens
// without a network and says it is offline; live data is never served from a cache. Network
// first for the shell (a new deploy arrives at once), the cached copy only when the network fails.
// /api/ (except the catalogue of words, which is not live data) and /socket.io/ are not touched.
export {};
declare const self: ServiceWorkerGlobalScope;

const CACHE = 'gw-console-shell-v1';
const SHELL = ['./', 'index.html', 'app.js', 'app.css', 'console.css', 'manifest.webmanifest', 'icon.svg', 'labels/codes.json'];
/** Read-only words and lifecycle table: safe to show offline, unlike incidents. */
const CACHED_API = ['/api/v1/catalogue', '/api/v1/jurisdictions'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      // One missing file (codes.json before the codes exist) must not block the install.
      .then((cache) => Promise.all(SHELL.map((path) => cache.add(path).catch(() => undefined))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

async function networkFirst(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (err) {
    const cached = (await cache.match(request)) ?? (request.mode === 'navigate' ? await cache.match('index.html') : undefined);
    if (cached) return cached;
    throw err;
  }
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/socket.io/')) return;
  if (url.pathname.startsWith('/api/') && !CACHED_API.includes(url.pathname)) return;
  event.respondWith(networkFirst(event.request));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: 'window' }).then((clients) => (clients[0] ? clients[0].focus() : self.clients.openWindow('./')).then(() => undefined)),
  );
});
