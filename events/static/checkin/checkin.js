/* The door check-in page (/events/<id>/checkin).
 *
 * Scans tickets with the camera (the browser's BarcodeDetector, else jsQR) or a photo, and
 * sends each to POST /api/v1/checkin with a fresh nonce. When the connection drops, a scan
 * is checked against the attendee list kept in IndexedDB (hashes of the ticket secrets,
 * never the secrets), queued there with its nonce and the time it was made, and sent when
 * the connection is back; answers that differ from what the door was shown are listed
 * under "After sync". Counters, search by name and "undo last" work online and offline.
 */
(function () {
  "use strict";

  const root = document.getElementById("checkin");
  const config = JSON.parse(document.getElementById("checkin-config").textContent);
  const text = config.text;
  const csrfToken = root.dataset.csrfToken;
  const listKey = config.userId + ":" + config.eventId; // one list per staff member and event
  const element = (id) => document.getElementById(id);

  const REQUEST_TIMEOUT_MS = 5000;
  const STATS_EVERY_MS = 5000;
  const LIST_EVERY_MS = 120000;
  const SAME_CODE_PAUSE_MS = 2000; // a ticket held in front of the camera is one scan
  const SECRET_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
  const SECRET_IN_TEXT = new RegExp("(?:/t/)?([" + SECRET_ALPHABET + "]{26,40})/?$");

  const state = {
    sessionId: config.sessionId,
    online: navigator.onLine,
    list: null, // {byHash: Map, byId: Map, attendees: [...]}
    queued: 0,
    syncing: false,
    lastCheckIn: null, // what "undo last" undoes
    clockOffsetMs: 0, // the server's clock minus this device's
    searchPage: 1,
  };

  // --- small helpers -----------------------------------------------------------------------

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));
  }

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function newNonce() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // available over plain http too, unlike randomUUID
    return hex(bytes);
  }

  async function sha256(secret) {
    const bytes = new TextEncoder().encode(secret);
    if (window.crypto && crypto.subtle) return hex(await crypto.subtle.digest("SHA-256", bytes));
    return window.tropaSha256Hex(bytes);
  }

  function secretFromScan(scanned) {
    const cleaned = (scanned || "").trim().toLowerCase();
    const match = SECRET_IN_TEXT.exec(cleaned);
    return match ? match[1] : cleaned;
  }

  function serverNow() {
    return new Date(Date.now() + state.clockOffsetMs);
  }

  const clock = new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    timeZone: config.timezone, // the event's, as the server shows times
  });

  function localTime(date) {
    return clock.format(date);
  }

  class NetworkError extends Error {}

  async function request(url, options) {
    if (!navigator.onLine) throw new NetworkError("offline");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        signal: controller.signal,
        ...options,
        headers: { Accept: "application/json", ...(options && options.headers) },
      });
      let body = null;
      try {
        body = await response.json();
      } catch (error) {
        body = null; // a login page or a proxy's error page
      }
      return { status: response.status, body };
    } catch (error) {
      throw new NetworkError(String(error));
    } finally {
      clearTimeout(timer);
    }
  }

  function postJson(url, data) {
    return request(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(data),
    });
  }

  // --- IndexedDB: the attendee list and the queue ---------------------------------------------

  let databasePromise = null;

  function database() {
    if (!databasePromise) {
      databasePromise = new Promise((resolve, reject) => {
        const opening = indexedDB.open("tropa-checkin", 1);
        opening.onupgradeneeded = () => {
          opening.result.createObjectStore("lists", { keyPath: "key" });
          opening.result.createObjectStore("queue", { keyPath: "nonce" }).createIndex("key", "key");
        };
        opening.onsuccess = () => resolve(opening.result);
        opening.onerror = () => reject(opening.error);
      });
    }
    return databasePromise;
  }

  async function store(name, mode, work) {
    const db = await database();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(name, mode);
      const result = work(transaction.objectStore(name));
      transaction.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      transaction.onerror = () => reject(transaction.error);
    });
  }

  const queue = {
    add: (scan) => store("queue", "readwrite", (s) => s.put({ ...scan, key: listKey })),
    remove: (nonce) => store("queue", "readwrite", (s) => s.delete(nonce)),
    all: () =>
      store("queue", "readonly", (s) => s.index("key").getAll(listKey)).then((items) =>
        items.sort((a, b) => a.scannedAt.localeCompare(b.scannedAt)),
      ),
  };

  // --- the attendee list ------------------------------------------------------------------

  function useList(saved) {
    const byHash = new Map();
    const byId = new Map();
    for (const attendee of saved.attendees) {
      byHash.set(attendee.hash, attendee);
      byId.set(attendee.registration_id, attendee);
    }
    state.list = { byHash, byId, attendees: saved.attendees };
  }

  async function downloadList() {
    const answer = await request(config.urls.attendees);
    if (answer.status !== 200 || !answer.body) return;
    const saved = { key: listKey, savedAt: new Date().toISOString(), ...answer.body };
    // Scans still queued here are not on the server yet: keep them marked in the new list.
    for (const scan of await queue.all()) {
      const attendee = saved.attendees.find((a) => a.registration_id === scan.registrationId);
      if (attendee) attendee.checked_in[scan.sessionId] = localTime(new Date(scan.scannedAt));
    }
    await store("lists", "readwrite", (s) => s.put(saved));
    useList(saved);
  }

  async function loadSavedList() {
    const saved = await store("lists", "readonly", (s) => s.get(listKey));
    if (saved) useList(saved);
  }

  function saveList() {
    if (!state.list) return Promise.resolve();
    return store("lists", "readwrite", (s) =>
      s.put({ key: listKey, savedAt: new Date().toISOString(), attendees: state.list.attendees }),
    );
  }

  function sessionOpen(when) {
    const session = config.sessions.find((s) => s.id === state.sessionId);
    if (!session) return false;
    const opens = new Date(session.starts_at).getTime() - config.windowOpensMinutes * 60000;
    return opens <= when.getTime() && when.getTime() <= new Date(session.ends_at).getTime();
  }

  // --- showing an answer ------------------------------------------------------------------

  function show(kind, title, name, message) {
    const panel = element("result");
    panel.dataset.state = kind;
    element("result-title").textContent = title;
    element("result-name").textContent = name || "";
    element("result-message").textContent = message || "";
    beep(kind);
  }

  function showAnswer(answer) {
    const attendee = answer.attendee || {};
    if (answer.status === "ok") {
      show("ok", text.ok, attendee.name, "");
    } else if (answer.reason === "already_checked_in") {
      show("already", text.already, attendee.name, answer.message);
    } else {
      show("refused", text.refused, attendee.name, answer.message);
    }
  }

  let audio = null;

  function beep(kind) {
    const tones = {
      ok: [[880, 0, 0.15]],
      already: [
        [660, 0, 0.12],
        [660, 0.2, 0.12],
      ],
      refused: [[220, 0, 0.45]],
    }[kind];
    if (!tones) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      for (const [frequency, start, length] of tones) {
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.type = kind === "refused" ? "square" : "sine";
        oscillator.frequency.value = frequency;
        gain.gain.value = 0.2;
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(audio.currentTime + start);
        oscillator.stop(audio.currentTime + start + length);
      }
    } catch (error) {
      // No sound on this device: the colour says it all.
    }
  }

  // Browsers start sound only after a tap on the page.
  document.addEventListener("click", () => audio && audio.state === "suspended" && audio.resume());

  function showNetwork() {
    const badge = element("net-status");
    let label;
    let style;
    if (!state.online) {
      label = state.queued ? format(text.queued, { n: state.queued }) : text.offline;
      style = "text-bg-danger";
    } else if (state.queued) {
      label = text.syncing + " (" + state.queued + ")";
      style = "text-bg-warning";
    } else {
      label = text.online;
      style = "text-bg-success";
    }
    badge.textContent = label;
    badge.className = "badge fs-6 " + style;
  }

  function setOnline(online) {
    state.online = online;
    showNetwork();
  }

  async function countQueued() {
    state.queued = (await queue.all()).length;
    showNetwork();
  }

  // --- counters ---------------------------------------------------------------------------

  function showCounts(counts) {
    element("count-registered").textContent = counts.registered;
    element("count-checked-in").textContent = counts.checked_in;
    element("count-expected").textContent = counts.expected;
  }

  function localCounts() {
    if (!state.list) return;
    let registered = 0;
    let checkedIn = 0;
    for (const attendee of state.list.attendees) {
      if (attendee.status !== "confirmed") continue;
      registered += 1;
      if (attendee.checked_in[state.sessionId]) checkedIn += 1;
    }
    showCounts({ registered, checked_in: checkedIn, expected: registered - checkedIn });
  }

  async function refreshCounts() {
    try {
      const answer = await request(config.urls.stats + "?session_id=" + (state.sessionId || ""));
      if (answer.status === 200 && answer.body) {
        state.clockOffsetMs = new Date(answer.body.now).getTime() - Date.now();
        showCounts(answer.body);
        setOnline(true);
        return;
      }
    } catch (error) {
      if (error instanceof NetworkError) setOnline(false);
    }
    localCounts();
  }

  // --- checking in ------------------------------------------------------------------------

  /* One check-in: `who` is {secret} from a scan or {registrationId} from the search. */
  async function checkIn(who) {
    const scan = {
      nonce: newNonce(),
      eventId: config.eventId,
      sessionId: state.sessionId,
      secret: who.secret || null,
      registrationId: who.registrationId || null,
      scannedAt: serverNow().toISOString(),
    };
    try {
      const answer = await send(scan);
      if (answer.status === 200 && answer.body) {
        setOnline(true);
        showAnswer(answer.body);
        rememberForUndo(answer.body, null);
        noteInList(answer.body);
      } else {
        show("refused", text.refused, "", (answer.body && answer.body.message) || text.failed);
      }
      refreshCounts();
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      setOnline(false);
      await checkInOffline(scan);
    }
  }

  function send(scan) {
    const body = {
      event_id: scan.eventId,
      session_id: scan.sessionId,
      nonce: scan.nonce,
      scanned_at: scan.scannedAt,
    };
    if (scan.secret) body.secret = scan.secret;
    else body.registration_id = scan.registrationId;
    return postJson(config.urls.api, body);
  }

  function rememberForUndo(answer, queuedScan) {
    const ok = answer.status === "ok";
    state.lastCheckIn = ok ? { attendee: answer.attendee, queuedScan } : null;
    element("undo-last").disabled = !ok;
  }

  function noteInList(answer) {
    const attendee = answer.attendee && state.list && state.list.byId.get(answer.attendee.registration_id);
    if (attendee && answer.attendee.checked_in_at && answer.attendee.session_id) {
      attendee.checked_in[answer.attendee.session_id] = answer.attendee.checked_in_at;
      saveList();
    }
  }

  /* The door's verdict without the server: green only for a confirmed person not yet in. A
     green scan is queued for the server; a refusal is not (the person was turned away). */
  async function checkInOffline(scan) {
    if (!state.list) {
      show("refused", text.refused, "", text.failed);
      return;
    }
    const attendee = scan.secret
      ? state.list.byHash.get(await sha256(scan.secret))
      : state.list.byId.get(scan.registrationId);
    if (!attendee) {
      show("refused", text.refused, "", text.reasons.unknown + " " + text.offlineUnknown);
      return;
    }
    const refusal = { cancelled: "cancelled", waitlisted: "waitlisted", pending: "not_confirmed" }[
      attendee.status
    ];
    if (refusal) {
      show("refused", text.refused, attendee.name, text.reasons[refusal]);
      return;
    }
    if (!sessionOpen(new Date(scan.scannedAt))) {
      show("refused", text.refused, attendee.name, text.reasons.outside_window);
      return;
    }
    const already = attendee.checked_in[scan.sessionId];
    if (already) {
      show("already", text.already, attendee.name, format(text.offlineAlready, { time: already }));
      return;
    }
    scan.registrationId = attendee.registration_id;
    scan.name = attendee.name;
    attendee.checked_in[scan.sessionId] = localTime(new Date(scan.scannedAt));
    await queue.add(scan);
    await saveList();
    show("ok", text.ok, attendee.name, text.offlineCheck);
    rememberForUndo({ status: "ok", attendee }, scan);
    await countQueued();
    localCounts();
  }

  /* Send the queued scans, oldest first, each with its nonce: a scan sent twice (an answer
     lost on the way) is still one check-in. */
  async function sync() {
    if (state.syncing || !navigator.onLine) return;
    const scans = await queue.all();
    if (!scans.length) return;
    state.syncing = true;
    try {
      for (const scan of scans) {
        let answer;
        try {
          answer = await send(scan);
        } catch (error) {
          setOnline(false);
          return;
        }
        if (answer.status === 429 || answer.status >= 500 || !answer.body) return; // later
        if (answer.status === 401) {
          addConflict(scan.name, text.signedOut);
          return;
        }
        setOnline(true);
        await queue.remove(scan.nonce);
        if (answer.body.status !== "ok") {
          const name = (answer.body.attendee && answer.body.attendee.name) || scan.name;
          addConflict(name, answer.body.message);
        }
        noteInList(answer.body);
        await countQueued();
      }
    } finally {
      state.syncing = false;
      await countQueued();
    }
    refreshCounts();
  }

  function addConflict(name, message) {
    const item = document.createElement("li");
    item.className = "list-group-item";
    const who = document.createElement("strong");
    who.textContent = name || "";
    item.append(who, " — " + message);
    element("conflicts").append(item);
    element("conflicts-section").hidden = false;
  }

  async function undoLast() {
    const last = state.lastCheckIn;
    if (!last) {
      show("idle", text.nothingToUndo, "", "");
      return;
    }
    if (last.queuedScan) {
      // Not sent yet: take it off the queue and off the list.
      await queue.remove(last.queuedScan.nonce);
      const attendee = state.list.byId.get(last.queuedScan.registrationId);
      if (attendee) delete attendee.checked_in[last.queuedScan.sessionId];
      await saveList();
      await countQueued();
      localCounts();
    } else {
      try {
        const answer = await postJson(config.urls.undo, {
          registration_id: last.attendee.registration_id,
          session_id: last.attendee.session_id,
        });
        if (answer.status !== 200) {
          show("refused", text.refused, "", (answer.body && answer.body.message) || text.failed);
          return;
        }
      } catch (error) {
        show("refused", text.refused, "", text.failed);
        return;
      }
      const attendee = state.list && state.list.byId.get(last.attendee.registration_id);
      if (attendee) delete attendee.checked_in[last.attendee.session_id];
      saveList();
      refreshCounts();
    }
    state.lastCheckIn = null;
    element("undo-last").disabled = true;
    show("idle", format(text.undone, { name: last.attendee.name }), "", "");
  }

  // --- decoding QR codes ------------------------------------------------------------------

  let detector = null;
  const canvas = document.createElement("canvas");
  const context2d = canvas.getContext("2d", { willReadFrequently: true });

  async function prepareDetector() {
    if (!("BarcodeDetector" in window)) return;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch (error) {
      detector = null;
    }
  }

  /* The text of a QR code in a video frame or a picture, or null. */
  async function decode(source, width, height) {
    if (detector) {
      try {
        const codes = await detector.detect(source);
        if (codes.length) return codes[0].rawValue;
      } catch (error) {
        // fall through to jsQR
      }
    }
    const scale = Math.min(1, 1024 / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    context2d.drawImage(source, 0, 0, canvas.width, canvas.height);
    const pixels = context2d.getImageData(0, 0, canvas.width, canvas.height);
    const code = window.jsQR(pixels.data, pixels.width, pixels.height, {
      inversionAttempts: "dontInvert",
    });
    return code ? code.data : null;
  }

  // --- the camera -------------------------------------------------------------------------

  const video = element("camera");
  let stream = null;
  let lastCode = { text: null, seenAt: 0 };
  let busy = false;

  let cameraStarting = false;

  async function startCamera() {
    if (stream || cameraStarting) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      element("camera-note").textContent = text.cameraOff;
      return;
    }
    cameraStarting = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1280 } },
        audio: false,
      });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
    } catch (error) {
      stopCamera();
      element("camera-note").textContent = text.cameraOff;
      return;
    } finally {
      cameraStarting = false;
    }
    element("camera-note").textContent = text.scanning;
    element("camera-toggle").textContent = element("camera-toggle").dataset.stopLabel;
    root.dataset.camera = "on";
    requestAnimationFrame(scanFrame);
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
    element("camera-note").textContent = "";
    element("camera-toggle").textContent = element("camera-toggle").dataset.startLabel;
    root.dataset.camera = "off";
  }

  async function scanFrame() {
    if (!stream) return;
    if (!busy && video.readyState >= 2 && video.videoWidth) {
      busy = true;
      try {
        const found = await decode(video, video.videoWidth, video.videoHeight);
        const now = Date.now();
        const sameAsBefore = found === lastCode.text && now - lastCode.seenAt < SAME_CODE_PAUSE_MS;
        if (found) lastCode = { text: found, seenAt: now };
        if (found && !sameAsBefore) await checkIn({ secret: secretFromScan(found) });
      } finally {
        busy = false;
      }
    }
    setTimeout(() => requestAnimationFrame(scanFrame), 150);
  }

  // --- a photo or a file ------------------------------------------------------------------

  async function scanPhoto(file) {
    let found = null;
    try {
      const picture = await createImageBitmap(file);
      found = await decode(picture, picture.width, picture.height);
      picture.close();
    } catch (error) {
      found = null;
    }
    if (found) await checkIn({ secret: secretFromScan(found) });
    else show("refused", text.refused, "", text.noCode);
  }

  // --- search and manual check-in ---------------------------------------------------------

  let searchTimer = null;

  function searchSoon() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search(1), 300);
  }

  async function search(page) {
    const words = element("search-q").value.trim();
    const list = element("search-results");
    if (page === 1) list.replaceChildren();
    if (!words) {
      element("search-more").hidden = true;
      return;
    }
    let rows;
    let hasNext = false;
    try {
      const query = new URLSearchParams({ q: words, page, session_id: state.sessionId || "" });
      const answer = await request(config.urls.search + "?" + query);
      if (answer.status !== 200 || !answer.body) throw new NetworkError("no answer");
      rows = answer.body.results;
      hasNext = answer.body.has_next;
    } catch (error) {
      rows = searchOffline(words); // the kept list, all at once
    }
    state.searchPage = page;
    for (const row of rows) list.append(searchRow(row));
    if (!list.children.length) {
      const nobody = document.createElement("li");
      nobody.className = "list-group-item text-muted";
      nobody.textContent = text.noResults;
      list.append(nobody);
    }
    element("search-more").hidden = !hasNext;
  }

  function searchOffline(words) {
    if (!state.list) return [];
    const wanted = words.toLowerCase().replace(/ё/g, "е").split(/\s+/);
    return state.list.attendees
      .filter((a) => wanted.every((w) => a.name.toLowerCase().replace(/ё/g, "е").includes(w)))
      .slice(0, 50)
      .map((a) => ({
        registration_id: a.registration_id,
        name: a.name,
        status: a.status,
        checked_in_at: a.checked_in[state.sessionId] || null,
      }));
  }

  function searchRow(row) {
    const item = document.createElement("li");
    item.className = "list-group-item d-flex justify-content-between align-items-center gap-2";
    item.dataset.registrationId = row.registration_id;
    const who = document.createElement("div");
    const name = document.createElement("div");
    name.className = "fw-semibold";
    name.textContent = row.name;
    const details = document.createElement("div");
    details.className = "small text-muted";
    details.textContent = [row.email, text.statuses[row.status], row.checked_in_at && "✓ " + row.checked_in_at]
      .filter(Boolean)
      .join(" · ");
    who.append(name, details);
    item.append(who);
    if (row.status === "confirmed" && !row.checked_in_at) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-success checkin-manual";
      button.textContent = text.checkIn;
      button.addEventListener("click", async () => {
        button.disabled = true;
        await checkIn({ registrationId: row.registration_id });
        search(1);
      });
      item.append(button);
    }
    return item;
  }

  // --- the service worker -----------------------------------------------------------------

  async function keepPageOffline() {
    // Service workers need https or localhost; on plain http the queue still works, but a
    // reload needs the network.
    if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "kept") root.dataset.offlineReady = "1";
    });
    try {
      await navigator.serviceWorker.register(config.urls.serviceWorker, { scope: config.urls.page });
      const registration = await navigator.serviceWorker.ready;
      const files = Array.from(
        document.querySelectorAll("link[rel=stylesheet][href], script[src]"),
        (node) => node.href || node.src,
      ).filter((url) => new URL(url).origin === location.origin);
      registration.active.postMessage({ type: "keep", urls: [config.urls.page, ...files] });
    } catch (error) {
      // No service worker: everything but an offline reload still works.
    }
  }

  // --- wiring -----------------------------------------------------------------------------

  function wire() {
    element("camera-toggle").addEventListener("click", () => {
      if (stream) stopCamera();
      else startCamera();
    });
    element("photo-input").addEventListener("change", (event) => {
      const file = event.target.files[0];
      event.target.value = "";
      if (file) scanPhoto(file);
    });
    element("undo-last").addEventListener("click", undoLast);
    element("search-q").addEventListener("input", searchSoon);
    element("search-more").addEventListener("click", () => search(state.searchPage + 1));
    const sessionSelect = element("session-select");
    if (sessionSelect) {
      sessionSelect.addEventListener("change", () => {
        state.sessionId = Number(sessionSelect.value);
        refreshCounts();
      });
    }
    window.addEventListener("online", () => {
      setOnline(true);
      sync();
    });
    window.addEventListener("offline", () => setOnline(false));
    setInterval(() => {
      if (!navigator.onLine) return;
      refreshCounts();
      sync();
    }, STATS_EVERY_MS);
    setInterval(() => navigator.onLine && downloadList().catch(() => undefined), LIST_EVERY_MS);
  }

  async function start() {
    wire();
    await Promise.all([prepareDetector(), loadSavedList().catch(() => undefined)]);
    await countQueued();
    if (navigator.onLine) {
      try {
        await downloadList();
      } catch (error) {
        setOnline(false);
      }
    }
    await refreshCounts();
    sync();
    keepPageOffline();
    if (navigator.permissions) {
      navigator.permissions
        .query({ name: "camera" })
        .then((permission) => permission.state === "granted" && startCamera())
        .catch(() => undefined);
    }
    root.dataset.ready = "1";
  }

  start();
})();
