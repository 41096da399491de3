// A migration's timeline as a Gantt chart: one row per phase it went through (from its timeline), one
// row per copy pass (from the progress samples of its event stream: a pass lasts from its first sample
// to the first sample of the next, or to the switch-over), and the moments within phases (guest paused,
// target running, ports up) as ticks. Bars are positioned with element.style, which the page's
// Content-Security-Policy allows (it forbids style attributes in markup, not the CSSOM).
import { el, ms, words } from './format.js';
import { phasesOf } from './phases.js';

/** Spans of the copy passes, from progress samples ({pass, at} in arrival order). */
export function passesOf(samples, endOfCopy) {
  const spans = [];
  for (const s of samples) {
    const at = Date.parse(s.at);
    const current = spans[spans.length - 1];
    if (current && current.pass === s.pass) {
      current.end = at;
    } else {
      if (current) current.end = at;
      spans.push({ pass: s.pass, start: at, end: at });
    }
  }
  if (spans.length > 0 && endOfCopy && endOfCopy > spans[spans.length - 1].end) spans[spans.length - 1].end = endOfCopy;
  return spans;
}

export function gantt(migration, samples, now = Date.now()) {
  const phases = phasesOf(migration);
  if (phases.length === 0) return el('p', { class: 'muted' }, 'No phase recorded yet.');
  const ended = ['completed', 'failed', 'cancelled'].includes(migration.state);
  const rows = phases.map((p, i) => ({
    kind: 'phase',
    name: p.state,
    start: p.at,
    // The last phase of a running migration lasts until now; an end state is a moment.
    end: i + 1 < phases.length ? phases[i + 1].at : ended ? p.at : now,
    note: p.note,
  }));
  const switchover = phases.find((p) => p.state === 'switchingOver')?.at ?? (ended ? rows[rows.length - 1].end : now);
  for (const span of passesOf(samples, switchover)) {
    rows.push({ kind: 'pass', name: `pass ${span.pass}`, start: span.start, end: span.end });
  }
  const moments = migration.timeline.filter((t) => t.event).map((t) => ({ name: t.event, at: Date.parse(t.at), note: t.note }));

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
    chart.append(el('div', { class: `gantt-row ${r.kind}`, 'data-phase': r.kind === 'phase' ? r.name : null, 'data-pass': r.kind === 'pass' ? r.name.slice(5) : null },
      el('span', { class: 'gantt-label' }, words(r.name)), el('div', { class: 'gantt-track' }, bar)));
  }
  if (moments.length > 0) {
    const track = el('div', { class: 'gantt-track' });
    for (const m of moments) {
      const tick = el('span', { class: 'gantt-moment', title: `${words(m.name)}${m.note ? ` — ${m.note}` : ''}`, 'data-moment': m.name }, words(m.name));
      tick.style.left = `${x(m.at)}%`;
      track.append(tick);
    }
    chart.append(el('div', { class: 'gantt-row moments' }, el('span', { class: 'gantt-label' }, 'moments'), track));
  }
  return chart;
}
