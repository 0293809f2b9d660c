/* Service worker of the door check-in page: a reload works without a connection.
 *
 * Served at /events/<id>/checkin/sw.js with the scope /events/<id>/checkin (the page).
 * It keeps the page and the files the page names (it posts their URLs once it is ready);
 * it holds no data: the attendee list and the queue of scans live in the page's IndexedDB.
 *
 *   the page itself      network first (fresh when online), the kept copy when offline
 *   the page's files     the kept copy at once, refreshed in the background
 *   anything else        the network, untouched (the API, the JSON helpers)
 */
"use strict";

const CACHE = "tropa-checkin-v1";
const PAGE = new URL(self.registration.scope).pathname;
const PAGE_TIMEOUT_MS = 4000; // a weak connection: show the kept page rather than wait

self.addEventListener("install", (event) => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "keep") return;
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(event.data.urls))
      .then(() => event.source && event.source.postMessage({ type: "kept" }))
      .catch(() => event.source && event.source.postMessage({ type: "not-kept" })),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === PAGE && url.search === "") {
    event.respondWith(pageFromNetworkFirst(request));
  } else {
    event.respondWith(keptCopyOrNetwork(request, event));
  }
});

async function pageFromNetworkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(fetch(request), PAGE_TIMEOUT_MS);
    if (response.ok) await cache.put(PAGE, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(PAGE);
    if (kept) return kept;
    throw error;
  }
}

async function keptCopyOrNetwork(request, event) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request);
  if (!kept) return fetch(request);
  // Refresh it for the next load, so a new version of a file arrives by itself.
  event.waitUntil(
    fetch(request)
      .then((response) => response.ok && cache.put(request, response))
      .catch(() => undefined),
  );
  return kept;
}

function withTimeout(promise, milliseconds) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), milliseconds);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
