// Ferry's dashboard: hosts, migrations live from the event stream, SLA charts, and a migration's
// detail with its Gantt. Everything comes from the REST API with the operator's key (kept in
// sessionStorage for this tab only); without a key the page asks for one and reads nothing.
import { ApiError, apiKey, follow, forgetApiKey, getAll, getJson, setApiKey } from './api.js';
import { downtimeChart, percentileChart, SlaDowntimeMs, SlaTotalMs, totalChart } from './charts.js';
import { ago, bytes, el, mib, ms, percent, time, words } from './format.js';
import { gantt } from './gantt.js';
import { Forward, isActive, Terminal } from './phases.js';

const $ = (id) => document.getElementById(id);

const state = {
  migrations: new Map(),
  progress: new Map(),
  hosts: null,
  guests: null,
  sla: null,
  refused: null,
};

let session = null; // AbortController of everything the current key started.
let charts = null;
let renderQueued = false;

function main() {
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('key-input').value.trim();
    if (!key) return;
    setApiKey(key);
    $('key-input').value = '';
    start();
  });
  $('forget-key').addEventListener('click', () => signOut(null));
  $('detail-close').addEventListener('click', () => { location.hash = ''; });
  window.addEventListener('hashchange', showDetail);
  if (apiKey()) start();
  else signOut(null);
}

function signOut(reason) {
  session?.abort();
  session = null;
  forgetApiKey();
  $('login').hidden = false;
  $('board').hidden = true;
  $('forget-key').hidden = true;
  $('key-error').textContent = reason ?? '';
  $('key-error').hidden = !reason;
  setStatus('signed-out', 'no key');
  $('key-input').focus();
}

async function start() {
  session?.abort();
  session = new AbortController();
  const signal = session.signal;
  Object.assign(state, { migrations: new Map(), progress: new Map(), hosts: null, guests: null, sla: null, refused: null });
  $('login').hidden = true;
  $('board').hidden = false;
  $('forget-key').hidden = false;
  charts ??= {
    downtime: downtimeChart($('chart-downtime')),
    total: totalChart($('chart-total')),
    pairDowntime: percentileChart($('chart-pair-downtime'), 'downtimeMs', SlaDowntimeMs),
    pairTotal: percentileChart($('chart-pair-total'), 'totalTimeMs', SlaTotalMs),
  };

  // The stream first, then the lists: the stream of all migrations starts at the present when it
  // connects, so whatever changes while the lists load arrives as an event and nothing falls between.
  let loaded = false;
  follow('/api/v1/events', {
    signal,
    onStatus: setStatus,
    onRefused: refused,
    onConnected: async () => {
      if (loaded) return; // A reconnect resumes with Last-Event-ID: nothing to reload.
      loaded = true;
      await loadAll(signal);
    },
    onEvent,
  });
  // Hosts have no events (heartbeats and hugepages change quietly): read them again now and then.
  const timers = [setInterval(() => loadHosts(signal), 15000), setInterval(queueRender, 5000)];
  signal.addEventListener('abort', () => timers.forEach(clearInterval), { once: true });
  showDetail();
}

function refused(e) {
  signOut(e.status === 401 ? 'The API refused this key.' : `This key may not read migrations: ${e.message}`);
}

async function loadAll(signal) {
  try {
    for (const m of await getAll('/api/v1/migrations', { signal })) upsert(m);
  } catch (e) {
    return failed(e);
  }
  await Promise.all([loadHosts(signal), loadSla(signal)]);
  queueRender();
}

async function loadHosts(signal) {
  try {
    const [hosts, guests] = await Promise.all([getAll('/api/v1/hosts', { signal }), getAll('/api/v1/guests', { signal })]);
    Object.assign(state, { hosts, guests });
  } catch (e) {
    failed(e);
  }
  queueRender();
}

let slaTimer = null;
async function loadSla(signal) {
  try {
    state.sla = await getJson('/api/v1/reports/sla', { signal });
  } catch (e) {
    failed(e);
  }
  queueRender();
}

function failed(e) {
  if (e.name === 'AbortError') return;
  if (e instanceof ApiError && e.status === 401) return refused(e);
  if (e instanceof ApiError && e.status === 403) {
    // Every list the page reads needs only the read scope; a deployment may still refuse one of them.
    state.refused = e.message;
    return;
  }
  setStatus('reconnecting', e.message);
}

/** The most migrations the page keeps: a tab left open for weeks on a busy fleet must not grow without bound. */
const MaxMigrations = 5000;

function upsert(m) {
  const known = state.migrations.get(m.id);
  if (known && Date.parse(known.updatedAt) > Date.parse(m.updatedAt)) return;
  state.migrations.set(m.id, m);
  if (Terminal.has(m.state)) state.progress.delete(m.id);
  if (state.migrations.size > MaxMigrations) {
    const oldest = [...state.migrations.values()].filter((x) => Terminal.has(x.state))
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt))
      .slice(0, state.migrations.size - MaxMigrations);
    for (const x of oldest) state.migrations.delete(x.id);
  }
}

function onEvent(type, data) {
  if (type === 'progress') {
    state.progress.set(data.migrationId, data);
  } else if (type === 'state' || type === 'result') {
    upsert(data);
    if (type === 'result' && session) {
      // The SLA report and the hosts' figures change when a migration ends; one reload for a burst of ends.
      clearTimeout(slaTimer);
      const signal = session.signal;
      slaTimer = setTimeout(() => { loadSla(signal); loadHosts(signal); }, 500);
    }
  }
  detailEvent(type, data);
  queueRender();
}

function setStatus(status, detail) {
  const badge = $('stream-status');
  badge.dataset.status = status;
  badge.textContent = status === 'live' ? 'live' : status === 'reconnecting' ? 'reconnecting…' : status;
  badge.title = detail ?? '';
}

function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function render() {
  renderHosts();
  renderMigrations();
  for (const c of Object.values(charts)) c.update(state);
  $('sla-overall').replaceChildren(...overall());
  renderDetail();
}

function renderHosts() {
  const body = $('hosts-body');
  if (!state.hosts) {
    $('hosts-note').textContent = state.refused ? `This key may not read hosts: ${state.refused}` : 'Loading…';
    $('hosts-note').hidden = false;
    body.replaceChildren();
    return;
  }
  $('hosts-note').hidden = state.hosts.length > 0;
  $('hosts-note').textContent = 'No host has registered yet.';
  const active = [...state.migrations.values()].filter(isActive);
  body.replaceChildren(...state.hosts.map((h) => {
    const guests = state.guests.filter((g) => g.hostId === h.id).length;
    const moving = active.filter((m) => m.sourceHost === h.name || m.targetHost === h.name).length;
    const accelerators = h.capabilities.accelerators.length > 0
      ? h.capabilities.accelerators.map((a) => el('span', { class: `tag accel-${a.accelerator}`, title: a.reason }, `${a.guestKind}: ${a.accelerator}`))
      : [el('span', { class: `tag accel-${h.capabilities.kvm ? 'kvm' : 'tcg'}` }, h.capabilities.kvm ? 'kvm' : 'tcg')];
    const pools = h.capabilities.hugepages.filter((p) => p.total > 0);
    return el('tr', { 'data-host': h.name, 'data-state': h.state },
      el('td', {}, el('strong', {}, h.name), el('div', { class: 'muted small' }, h.migrationAddress)),
      el('td', {}, el('span', { class: `badge host-${h.state}` }, h.state), el('div', { class: 'muted small' }, `heartbeat ${ago(h.lastHeartbeatAt)}`)),
      el('td', {}, ...accelerators),
      el('td', { class: 'num', 'data-field': 'guests' }, guests),
      el('td', {}, pools.length === 0 ? el('span', { class: 'muted' }, 'none')
        : pools.map((p) => el('div', {}, `${mib((p.pageSizeKiB * p.free) / 1024)} free of ${mib((p.pageSizeKiB * p.total) / 1024)}`,
          el('span', { class: 'muted small' }, ` (${p.pageSizeKiB >= 1048576 ? '1 GiB' : `${p.pageSizeKiB / 1024} MiB`} pages)`)))),
      el('td', { class: 'num', 'data-field': 'active' }, moving));
  }));
}

function phaseBar(m) {
  const failedAt = m.state === 'failed' || m.state === 'cancelled' || m.state === 'cancelling';
  // Where a failed or cancelled migration stopped: the last forward phase its timeline reached.
  const reached = failedAt
    ? Math.max(0, ...m.timeline.filter((t) => !t.event).map((t) => Forward.indexOf(t.state)))
    : Forward.indexOf(m.state);
  return el('div', { class: 'phase-bar', title: words(m.state) },
    ...Forward.map((p, i) => el('span', {
      class: `phase ${i < reached ? 'done' : i === reached ? (failedAt ? 'stopped' : m.state === 'completed' ? 'done' : 'current') : ''}`,
      title: words(p),
    })));
}

function progressCell(m) {
  const p = state.progress.get(m.id);
  if (!p || !isActive(m)) return null;
  const whole = p.transferredBytes + p.remainingBytes;
  const fill = el('div', { class: 'progress-fill' });
  fill.style.width = `${percent(p.transferredBytes, whole)}%`;
  return el('div', { class: 'progress', 'data-pass': p.pass },
    el('div', { class: 'progress-track' }, fill),
    el('div', { class: 'small muted' },
      `pass ${p.pass} · ${bytes(p.transferredBytes)} sent, ${bytes(p.remainingBytes)} left · ${p.throughputMbps.toFixed(0)} Mbit/s · ${Math.round(p.dirtyPagesPerSecond)} dirty pages/s`
      + (p.expectedDowntimeMs !== null ? ` · expected downtime ${ms(p.expectedDowntimeMs)}` : '')));
}

function renderMigrations() {
  const all = [...state.migrations.values()].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const shown = all.slice(0, 100);
  const active = all.filter(isActive).length;
  $('migrations-summary').textContent = `${active} active · ${all.length} loaded${all.length > shown.length ? ` (newest ${shown.length} shown)` : ''}`;
  $('migrations-note').hidden = all.length > 0;
  $('migrations-body').replaceChildren(...shown.map((m) => {
    const r = m.result;
    return el('tr', { 'data-migration-id': m.id, 'data-state': m.state, class: `clickable ${isActive(m) ? 'active' : ''}`, onclick: () => { location.hash = `#migration=${m.id}`; } },
      el('td', {}, el('a', { href: `#migration=${m.id}` }, m.guest), el('div', { class: 'muted small' }, time(m.createdAt))),
      el('td', {}, `${m.sourceHost} → ${m.targetHost ?? '?'}`),
      el('td', {}, el('span', { class: `badge state-${m.state}`, 'data-field': 'state' }, words(m.state)), phaseBar(m), progressCell(m),
        m.failureReason ? el('div', { class: 'small failure' }, m.failureReason) : null),
      el('td', {}, r ? r.transport : m.policy.transport),
      el('td', { class: 'num' }, r ? ms(r.downtimeMs) : '–', r?.networkDowntimeMs != null ? el('div', { class: 'small muted' }, `net ${ms(r.networkDowntimeMs)}`) : null),
      el('td', { class: 'num' }, r ? ms(r.totalTimeMs) : '–'),
      el('td', {}, r ? el('span', { class: `badge ${r.slaMet ? 'sla-met' : 'sla-missed'}` }, r.slaMet ? 'met' : 'missed') : ''));
  }));
}

function overall() {
  const o = state.sla?.overall;
  if (!o) return [state.refused ? el('span', { class: 'muted' }, `This key may not read the SLA report: ${state.refused}`) : ''];
  const pct = (v) => (v === null ? '–' : `${(100 * v).toFixed(1)} %`);
  return [
    el('span', {}, `${o.count} finished`), el('span', {}, `success ${pct(o.successRate)}`), el('span', {}, `SLA met ${pct(o.slaMetFraction)}`),
    el('span', {}, `downtime p50 ${ms(o.downtimeMs.p50)} · p99 ${ms(o.downtimeMs.p99)}`),
    el('span', {}, `total p50 ${ms(o.totalTimeMs.p50)} · p99 ${ms(o.totalTimeMs.p99)}`),
  ];
}

// The detail view: #migration=ID. It reads the migration's own event stream from its beginning, which
// replays its progress samples (the passes of the Gantt), then follows it live until the result.
let detail = null;

function showDetail() {
  const id = /^#migration=([0-9a-f-]{36})$/.exec(location.hash)?.[1];
  if (detail?.id === id) return;
  detail?.abort.abort();
  detail = null;
  $('detail').hidden = !id;
  if (!id || !session) return;
  const abort = new AbortController();
  session.signal.addEventListener('abort', () => abort.abort(), { once: true });
  detail = { id, abort, samples: [], migration: state.migrations.get(id) ?? null, error: null };
  const mine = detail;
  getJson(`/api/v1/migrations/${id}`, { signal: abort.signal }).then((m) => {
    mine.migration = m;
    upsert(m);
    queueRender();
  }, (e) => {
    if (e.name === 'AbortError') return;
    mine.error = e.message;
    queueRender();
  });
  follow(`/api/v1/migrations/${id}/events`, {
    signal: abort.signal,
    endsWithResult: true,
    onRefused: (e) => { mine.error = e.message; queueRender(); },
    onEvent: (type, data) => {
      if (type === 'progress') mine.samples.push(data);
      else mine.migration = data;
      queueRender();
    },
  });
  $('detail').scrollIntoView({ block: 'start' });
  queueRender();
}

function detailEvent(type, data) {
  // The stream of all migrations also updates an open detail's header between its own events.
  if (detail && type !== 'progress' && data.id === detail.id) detail.migration = data;
}

function renderDetail() {
  if (!detail) return;
  const m = detail.migration;
  const body = $('detail-body');
  if (!m) {
    body.replaceChildren(el('p', { class: detail.error ? 'failure' : 'muted' }, detail.error ?? 'Loading…'));
    return;
  }
  $('detail').dataset.migrationId = m.id;
  $('detail').dataset.state = m.state;
  const r = m.result;
  const facts = [
    ['state', words(m.state)], ['guest', m.guest], ['hosts', `${m.sourceHost} → ${m.targetHost ?? '?'}`],
    ['policy', `downtime ≤ ${ms(m.policy.maxDowntimeMs)}, total ≤ ${ms(m.policy.maxTotalTimeMs)}, ${m.policy.transport}`],
  ];
  if (r) {
    facts.push(['transport', r.transport + (r.transportReason ? ` (${r.transportReason})` : '')], ['total time', ms(r.totalTimeMs)],
      ['downtime', `${ms(r.downtimeMs)} hypervisor${r.networkDowntimeMs != null ? `, ${ms(r.networkDowntimeMs)} network` : ''}`],
      ['setup', ms(r.setupTimeMs)], ['passes', r.passes], ['sent', bytes(r.bytesTransferred)], ['SLA', r.slaMet ? 'met' : 'missed']);
  }
  if (m.failureReason) facts.push(['failure', m.failureReason]);
  body.replaceChildren(
    el('h3', {}, `${m.guest}: ${m.sourceHost} → ${m.targetHost ?? '?'}`, el('span', { class: 'muted small' }, ` ${m.id}`)),
    el('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
    gantt(m, detail.samples));
}

main();
