// The SLA charts, drawn with uPlot (canvas, log scales). Each chart draws its policy line (10 ms of
// downtime, 2 s of total time: the origin document's requirement and Ferry's default policy) across the
// whole plot, and says where it drew it, so a test
// can look at the pixels on that line (data-sla-row, canvas pixels).
import uPlot from 'uplot';
import { ms } from './format.js';

export const SlaDowntimeMs = 10;
export const SlaTotalMs = 2000;
export const SlaColour = '#d7263d';

const palette = { hypervisor: '#1f77b4', network: '#ff7f0e', total: '#2ca02c', p50: '#1f77b4', p95: '#ff7f0e', p99: '#9467bd' };

function policyLine(value) {
  return (u) => {
    const y = u.valToPos(value, 'y', true);
    const { left, top, width, height } = u.bbox;
    // The canvas row of the line (canvas pixels, not CSS ones), and its value, for whoever checks the drawing.
    u.root.parentElement.dataset.slaRow = String(Math.round(y));
    u.root.parentElement.dataset.slaMs = String(value);
    if (y < top || y > top + height) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = SlaColour;
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.setLineDash([8 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(left, Math.round(y) + 0.5);
    ctx.lineTo(left + width, Math.round(y) + 0.5);
    ctx.stroke();
    ctx.restore();
  };
}

/**
 * Time range of the data with a little room, or a minute either side of a single migration (uPlot widens a
 * single point of a time scale to 86400 / ms units: with seconds as the unit, 1000 days).
 */
function timeRange(u, min, max) {
  const xs = u.data[0];
  if (xs.length === 0) return [Date.now() / 1000 - 60, Date.now() / 1000 + 60];
  if (xs.length === 1 || xs[0] === xs[xs.length - 1]) return [xs[0] - 60, xs[0] + 60];
  const pad = Math.max(0.1, (max - min) * 0.03);
  return [min - pad, max + pad];
}

/** A log range that always shows the policy line, with a decade of room around the data. */
function logRangeWith(value) {
  return (u, min, max) => {
    const lo = Math.min(min ?? value, value);
    const hi = Math.max(max ?? value, value);
    return uPlot.rangeLog(lo, hi, 10, true);
  };
}

const points = (label, stroke) => ({
  label,
  stroke,
  fill: stroke,
  paths: () => null,
  points: { show: true, size: 7, stroke, fill: stroke },
  value: (u, v) => ms(v),
});

function widthOf(container) {
  return Math.max(300, container.clientWidth - 4);
}

/** A chart that keeps its canvas and redraws with new data; `update()` takes the page's state. */
class Chart {
  constructor(container, options, toData) {
    this.container = container;
    this.toData = toData;
    this.empty = container.querySelector('.chart-empty');
    this.plot = new uPlot({ width: widthOf(container), height: 240, ...options }, toData(null), container);
    new ResizeObserver(() => this.plot.setSize({ width: widthOf(container), height: 240 })).observe(container);
  }

  update(state) {
    const data = this.toData(state);
    this.container.dataset.points = String(data[0].length);
    if (this.empty) this.empty.hidden = data[0].length > 0;
    this.plot.setData(data);
  }
}

/** Per migration over time: hypervisor and network downtime, log scale, 10 ms line. */
export function downtimeChart(container) {
  return new Chart(container, {
    scales: { x: { time: true, range: timeRange }, y: { distr: 3, range: logRangeWith(SlaDowntimeMs) } },
    axes: [{}, { label: 'downtime', values: (u, vs) => vs.map(ms), size: 70 }],
    series: [{ label: 'finished' }, points('hypervisor (QEMU)', palette.hypervisor), points('network (probe)', palette.network)],
    hooks: { draw: [policyLine(SlaDowntimeMs)] },
  }, (state) => {
    const done = finished(state);
    return [done.map((m) => m.x), done.map((m) => positive(m.result.downtimeMs)), done.map((m) => positive(m.result.networkDowntimeMs))];
  });
}

/** Per migration over time: total time, log scale, 2 s line. */
export function totalChart(container) {
  return new Chart(container, {
    scales: { x: { time: true, range: timeRange }, y: { distr: 3, range: logRangeWith(SlaTotalMs) } },
    axes: [{}, { label: 'total time', values: (u, vs) => vs.map(ms), size: 70 }],
    series: [{ label: 'finished' }, points('total time', palette.total)],
    hooks: { draw: [policyLine(SlaTotalMs)] },
  }, (state) => {
    const done = finished(state);
    return [done.map((m) => m.x), done.map((m) => positive(m.result.totalTimeMs))];
  });
}

/** p50/p95/p99 per source→target pair from the SLA report, log scale, with the policy line. */
export function percentileChart(container, figure, sla) {
  let labels = [];
  return new Chart(container, {
    scales: { x: { time: false, range: (u) => [-0.5, Math.max(labels.length, 1) - 0.5] }, y: { distr: 3, range: logRangeWith(sla) } },
    axes: [
      { splits: () => labels.map((_, i) => i), values: (u, vs) => vs.map((v) => labels[v] ?? ''), grid: { show: false } },
      { label: figure === 'downtimeMs' ? 'downtime' : 'total time', values: (u, vs) => vs.map(ms), size: 70 },
    ],
    series: [{ label: 'pair', value: (u, v) => labels[v] ?? '' }, points('p50', palette.p50), points('p95', palette.p95), points('p99', palette.p99)],
    hooks: { draw: [policyLine(sla)] },
  }, (state) => {
    const pairs = (state?.sla?.pairs ?? []).filter((p) => p[figure].p50 !== null);
    labels = pairs.map((p) => `${p.sourceHost} → ${p.targetHost}`);
    return [pairs.map((_, i) => i), ...['p50', 'p95', 'p99'].map((q) => pairs.map((p) => positive(p[figure][q])))];
  });
}

/** Log scales cannot show 0: a 0 ms downtime is drawn at 1 µs, the floor of what is measured. */
function positive(v) {
  return v === null || v === undefined ? null : Math.max(v, 0.001);
}

function finished(state) {
  if (!state) return [];
  return [...state.migrations.values()]
    .filter((m) => m.state === 'completed' && m.result)
    .map((m) => ({ ...m, x: Date.parse(m.updatedAt) / 1000 }))
    .sort((a, b) => a.x - b.x);
}
