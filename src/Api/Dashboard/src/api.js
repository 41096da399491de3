// The REST API as the page speaks it: the key from sessionStorage in X-Api-Key on every request, and
// Server-Sent Events read with fetch, because EventSource cannot send a header (the key must not go
// in a URL, where proxies and access logs keep it).

const KeyItem = 'ferry.apiKey';

export const apiKey = () => sessionStorage.getItem(KeyItem);
export const setApiKey = (key) => sessionStorage.setItem(KeyItem, key);
export const forgetApiKey = () => sessionStorage.removeItem(KeyItem);

/** A refused or failed request: `status` is the HTTP status (0 when the API was unreachable). */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function problemOf(response) {
  try {
    const p = await response.json();
    return p.detail || p.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

async function send(path, { signal, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(path, {
      headers: { 'X-Api-Key': apiKey() ?? '', ...headers },
      cache: 'no-store',
      credentials: 'omit',
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `the API is unreachable (${e.message})`);
  }
  if (!response.ok && response.status !== 204) {
    throw new ApiError(response.status, await problemOf(response));
  }
  return response;
}

export async function getJson(path, options) {
  const response = await send(path, { ...options, headers: { Accept: 'application/json' } });
  return response.json();
}

/** Every item of a paged list (`items`, `nextPageToken`), at most `limit`. */
export async function getAll(path, { limit = 2000, signal } = {}) {
  const items = [];
  let token = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await getJson(`${path}${sep}pageSize=500${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`, { signal });
    items.push(...page.items);
    token = page.nextPageToken;
  } while (token && items.length < limit);
  return items;
}

/**
 * Parses a text/event-stream body into {id, event, data} (the WHATWG rules the API's stream needs:
 * `id`, `event`, `data` lines, `:` comments, blank line dispatches, CR LF or LF line ends).
 */
async function* events(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let id = null;
  let event = 'message';
  let data = [];
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let nl;
      while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) yield { id, event, data: data.join('\n') };
          event = 'message';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'id') id = value;
        else if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Follows an event stream until `signal` aborts: calls `onEvent(type, json, id)` per event and, when the
 * connection ends or breaks, reconnects with Last-Event-ID after a growing pause (1 s to 15 s), so no
 * event is missed or repeated. `onStatus('live'|'reconnecting'|'ended', detail)` tells the page. A
 * 204, or the end after a `result` when `endsWithResult`, ends it; 401/403 end it with `onRefused`.
 */
export async function follow(path, { onEvent, onStatus = () => {}, onRefused = () => {}, onConnected = () => {}, signal, endsWithResult = false, lastEventId = null }) {
  let last = lastEventId;
  let pause = 1000;
  while (!signal.aborted) {
    let ended = false;
    try {
      const response = await send(path, { signal, headers: { Accept: 'text/event-stream', ...(last ? { 'Last-Event-ID': last } : {}) } });
      if (response.status === 204) {
        onStatus('ended');
        return;
      }
      onStatus('live');
      await onConnected();
      pause = 1000;
      for await (const e of events(response.body)) {
        if (e.id) last = e.id;
        let json;
        try {
          json = JSON.parse(e.data);
        } catch {
          continue; // Not an event this page knows; the next one is.
        }
        onEvent(e.event, json, e.id);
        if (endsWithResult && e.event === 'result') ended = true;
      }
      if (ended) {
        onStatus('ended');
        return;
      }
      onStatus('reconnecting', 'the stream ended');
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        onRefused(e);
        return;
      }
      onStatus('reconnecting', e.message);
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, pause);
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
    pause = Math.min(pause * 2, 15000);
  }
}
