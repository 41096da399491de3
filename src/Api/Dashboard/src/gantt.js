// A migration's timeline as a Gantt chart: one row per phase it went through, one row per copy pass (see
// passesOf), and the moments within phases (guest paused,
// target running, ports up) as ticks. Bars are positioned with element.style, which the page's
// Content-Security-Policy allows (it forbids style attributes in markup, not the CSSOM).
import { el, ms, words } from './format.js';
import { phasesOf } from './phases.js';

/**
 * Spans of the copy passes: each starts at its `passStarted` moment on the timeline (the API records the
 * first sample of every pass there) or, for a pass under way that the timeline shown does not have yet, at
 * its first progress sample from the stream; it ends where the next begins, the last at the switch-over.
 */
export function passesOf(migration, samples, endOfCopy) {
  const starts = new Map();
  for (const t of migration.timeline) {
    const pass = t.event === 'passStarted' ? Number(/^pass (\d+)$/.exec(t.note ?? '')?.[1]) : 0;
    if (pass > 0 && !starts.has(pass)) starts.set(pass, Date.parse(t.at));
  }
  for (const s of samples) {
    if (!starts.has(s.pass)) starts.set(s.pass, Date.parse(s.at));
  }
  const ordered = [...starts].sort((a, b) => a[1] - b[1]);
  return ordered.map(([pass, start], i) => ({ pass, start, end: i + 1 < ordered.length ? ordered[i + 1][1] : Math.max(start, endOfCopy) }));
}

export function gantt(migration, samples, now = Date.now()) {
  const phases = phasesOf(migration);
  if (phases.length === 0) return el('p', { class: 'muted' }, 'No phase recorded yet.');
  const ended = ['completed', 'failed', 'cancelled'].includes(migration.state);
  const rows = phases.map((p, i) => ({
    kind: 'gantt-phase',
    name: p.state,
    start: p.at,
    // The last phase of a running migration lasts until now; an end state is a moment.
    end: i + 1 < phases.length ? phases[i + 1].at : ended ? p.at : now,
    note: p.note,
  }));
  const switchover = phases.find((p) => p.state === 'switchingOver')?.at ?? (ended ? rows[rows.length - 1].end : now);
  for (const span of passesOf(migration, samples, switchover)) {
    rows.push({ kind: 'gantt-pass', name: `pass ${span.pass}`, start: span.start, end: span.end });
  }
  const moments = migration.timeline.filter((t) => t.event && t.event !== 'passStarted').map((t) => ({ name: t.event, at: Date.parse(t.at), note: t.note }));

  const t0 = Math.min(...rows.map((r) => r.start));
  const t1 = Math.max(...rows.map((r) => r.end), ...moments.map((m) => m.at), t0 + 1);
  const x = (t) => (100 * (t - t0)) / (t1 - t0);

  const chart = el('div', { class: 'gantt', 'data-span-ms': t1 - t0 });
  chart.append(el('div', { class: 'gantt-row gantt-axis' }, el('span', { class: 'gantt-label' }, ''),
    el('div', { class: 'gantt-track' }, ...[0, 0.25, 0.5, 0.75, 1].map((f) => {
      const tick = el('span', { class: 'gantt-tick' }, ms(f * (t1 - t0)));
      tick.style.left = `${100 * f}%`;
      return tick;
    }))));
  for (const r of rows) {
    const bar = el('div', { class: `gantt-bar ${r.kind} state-${r.name.replace(/\s/g, '-')}`, title: `${words(r.name)}: ${ms(r.end - r.start)}${r.note ? ` — ${r.note}` : ''}` },
      el('span', { class: 'gantt-duration' }, ms(r.end - r.start)));
    bar.style.left = `${x(r.start)}%`;
    bar.style.width = `${x(r.end) - x(r.start)}%`;
    chart.append(el('div', { class: `gantt-row ${r.kind}`, 'data-phase': r.kind === 'gantt-phase' ? r.name : null, 'data-pass': r.kind === 'gantt-pass' ? r.name.slice(5) : null },
      el('span', { class: 'gantt-label' }, words(r.name)), el('div', { class: 'gantt-track' }, bar)));
  }
  if (moments.length > 0) {
    const track = el('div', { class: 'gantt-track' });
    for (const m of moments) {
      const tick = el('span', { class: 'gantt-moment', title: `${words(m.name)}${m.note ? ` — ${m.note}` : ''}`, 'data-moment': m.name }, words(m.name));
      tick.style.left = `${x(m.at)}%`;
      track.append(tick);
    }
    chart.append(el('div', { class: 'gantt-row gantt-moments' }, el('span', { class: 'gantt-label' }, 'moments'), track));
  }
  return chart;
}
