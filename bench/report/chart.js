// docs/bench/chart.svg, written by hand: one horizontal bar panel per scenario, a bar per contender,
// every bar labelled with its value, and a header naming the machine. Readable without the JSON.
import {
  fmtLost,
  fmtMB,
  fmtMs,
  fmtPercent,
  fmtRate,
  fmtRatio,
  fmtUs,
  machineLine,
  modeTag,
  ratio,
  scenarioEntries,
  throughputRuns,
} from './format.js';

const WIDTH = 1300;
const LABEL_W = 420;
const BAR_X = 440;
const BAR_MAX = 400;
const ROW_H = 26;
const COLORS = { original: '#9a9a9a', raw: '#4e79a7', nestjs: '#e15759', baseline: '#b07aa1', decorated: '#f28e2b', manual: '#76b7b2' };

/** A contender's colour: the baseline build's raw ioredis and original (in-process) share raw's and the original's. */
const colorOf = (key) => COLORS[key] ?? COLORS[key.replace(/^baseline-/, '')] ?? '#333';
const esc = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = (x, y, content, attrs = '') => `<text x="${x}" y="${y}" ${attrs}>${esc(content)}</text>`;

/**
 * One panel at height `y`; returns { svg, height }. Bars share one linear scale from 0 (at least
 * `minScale` wide, so noise-sized values stay small); negative values get no bar. A `reference` row
 * does not set the scale: when it is longer it is cut at the panel's width and marked as cut.
 */
function panel(y, { title, subtitle, rows, minScale = 0 }) {
  const scaleRows = rows.some((row) => !row.reference) ? rows.filter((row) => !row.reference) : rows;
  const max = Math.max(...scaleRows.map((row) => (Number.isFinite(row.value) ? row.value : 0)), minScale, 1e-9);
  const parts = [text(20, y + 20, title, 'class="title"'), text(20, y + 38, subtitle, 'class="sub"')];
  rows.forEach((row, i) => {
    const top = y + 52 + i * ROW_H;
    const full = Number.isFinite(row.value) && row.value > 0 ? Math.max(1, (row.value / max) * BAR_MAX) : 0;
    const cut = full > BAR_MAX;
    const width = cut ? BAR_MAX : full;
    parts.push(text(LABEL_W + 8, top + 14, row.label, 'class="label" text-anchor="end"'));
    parts.push(
      `<rect x="${BAR_X}" y="${top + 2}" width="${width.toFixed(1)}" height="${ROW_H - 8}" fill="${row.color}"><title>${esc(`${row.label}: ${row.text}`)}</title></rect>`,
    );
    if (cut) {
      for (const dx of [-26, -20])
        parts.push(
          `<line x1="${BAR_X + width + dx}" y1="${top + 22}" x2="${BAR_X + width + dx + 8}" y2="${top}" stroke="#fff" stroke-width="3"/>`,
        );
    }
    parts.push(text(BAR_X + width + 8, top + 14, cut ? `${row.text}  (bar cut, not to scale)` : row.text, 'class="value"'));
  });
  const height = 52 + rows.length * ROW_H + 18;
  return { svg: parts.join('\n'), height };
}

function panels(results) {
  const s = results.scenarios;
  const rows = (scenario, value, describe) =>
    Object.entries(scenario.contenders).map(([key, r]) => ({
      label: r.label,
      value: value(r),
      text: describe(r),
      color: colorOf(key),
      reference: r.note !== undefined,
    }));
  const list = [];
  // two bars per contender: a lighter one for the bench process's CPU, a darker one for Redis's
  const costRows = (contenders) =>
    Object.entries(contenders).flatMap(([key, r]) => [
      {
        label: `${r.label} client CPU`,
        value: r.median.clientCpuUs,
        text: `client ${fmtUs(r.median.clientCpuUs)} µs  (${fmtRatio(ratio(r, 'clientCpuUs'))} raw)`,
        color: colorOf(key) + '99',
      },
      {
        label: `${r.label} Redis CPU`,
        value: r.median.redisCpuUs,
        text: `Redis ${fmtUs(r.median.redisCpuUs)} µs  (${fmtRatio(ratio(r, 'redisCpuUs'))} raw; commands ${fmtUs(r.median.redisCmdUs)} µs)`,
        color: colorOf(key),
      },
    ]);
  for (const t of scenarioEntries(s, 'throughput')) {
    for (const run of throughputRuns(t)) {
      const arrays = run.recipientArrays === 'new' ? ', a new recipient array per call' : '';
      list.push({
        title: `1. Throughput without sync${modeTag(t)}, ${run.inFlight} in flight${arrays} (dispatches/s, higher is better)`,
        subtitle: `${t.dispatches} dispatches to ${t.recipients} recipients; median of ${t.rounds} rounds; ratio = median of per-round ratios to raw ioredis`,
        rows: rows(
          run,
          (r) => r.median.rate,
          (r) => `${fmtRate(r.median.rate)}/s  (${fmtRatio(ratio(r, 'rate'))} raw)  one Redis core: ${fmtRate(r.median.ceiling)} msg/s`,
        ),
      });
      if (Object.values(run.contenders).some((r) => Number.isFinite(r.median.redisCpuUs)))
        list.push({
          title: `1. Cost per dispatch without sync${modeTag(t)}, ${run.inFlight} in flight${arrays} (µs of CPU, lower is better)`,
          subtitle:
            'lighter bar: the process dispatching (process.cpuUsage); darker bar: Redis main thread (INFO cpu), incl. delivery to the counting subscriber',
          rows: costRows(run.contenders),
        });
    }
  }
  if (s.ceiling)
    list.push({
      title: '1c. One Redis core saturated by pre-encoded batches (msg/s, higher is better)',
      subtitle: `${s.ceiling.batches} batches of ${s.ceiling.batch} envelopes written back to back, each as its contender encodes it; median of ${s.ceiling.rounds} rounds; ratio = median of per-round ratios to raw`,
      rows: rows(
        s.ceiling,
        (r) => r.median.rate,
        (r) => `${fmtRate(r.median.rate)} msg/s  (${fmtRatio(ratio(r, 'rate'))} raw)  Redis CPU ${fmtUs(r.median.redisCpuUs)} µs/msg`,
      ),
    });
  for (const single of scenarioEntries(s, 'single'))
    list.push({
      title: `1b. One dispatch at a time, each awaited${modeTag(single)} (µs, lower is better)`,
      subtitle: `${single.dispatches} dispatches to ${single.recipients} recipients per round; median of ${single.rounds} rounds; lighter bar p50, darker bar p99; ratio = median of per-round ratios to raw`,
      rows: Object.entries(single.contenders).flatMap(([key, r]) => [
        {
          label: `${r.label} p50`,
          value: r.median.p50,
          text: `p50 ${fmtUs(r.median.p50)} µs  (${fmtRatio(ratio(r, 'p50'))} raw)`,
          color: colorOf(key) + '99',
        },
        {
          label: `${r.label} p99`,
          value: r.median.p99,
          text: `p99 ${fmtUs(r.median.p99)} µs  (${fmtRatio(ratio(r, 'p99'))} raw)`,
          color: colorOf(key),
        },
      ]),
    });
  for (const sync of scenarioEntries(s, 'sync'))
    list.push({
      title: `2. Sync enabled, ${sync.members}-member room with ${sync.online} online${modeTag(sync)} (dispatches/s, higher is better)`,
      subtitle: `${sync.dispatches} dispatches in flight per round; LOST = messages that should be stored for the offline members but are not`,
      rows: rows(
        sync,
        (r) => r.median.rate,
        (r) =>
          r.note
            ? `${fmtRate(r.median.rate)}/s  reference: publish only, no sync`
            : `${fmtRate(r.median.rate)}/s  (${fmtRatio(r.vsOriginal)} original)  LOST ${fmtLost(r.lostTotal, r.expectedTotal)}`,
      ),
    });
  for (const syncCpu of scenarioEntries(s, 'sync-cpu'))
    list.push({
      title: `2b. Sync cost per dispatch, ${syncCpu.members}-member room, ${syncCpu.online} online${modeTag(syncCpu)} (µs of CPU, lower is better)`,
      subtitle: `${syncCpu.dispatches} dispatches per round, ${syncCpu.inFlight} in flight; raw ioredis is a reference (publish only, stores nothing)`,
      rows: costRows(syncCpu.contenders),
    });
  for (const decorator of scenarioEntries(s, 'decorator'))
    list.push({
      title:
        decorator.overDirectPercent === undefined
          ? `3. @Dispatch method vs the same method dispatching by hand (calls/s): overhead ${fmtPercent(decorator.overheadPercent)}`
          : `3. @Dispatch method${modeTag(decorator)} (calls/s): ${fmtPercent(decorator.overDirectPercent)} time per call over a direct dispatch(), ${fmtPercent(decorator.overheadPercent)} over the method by hand`,
      subtitle: `${decorator.dispatches} dispatches, same payload and loop; original and raw ioredis as reference`,
      rows: rows(
        decorator,
        (r) => r.median.rate,
        (r) => `${fmtRate(r.median.rate)}/s${r.vsDirect ? `  (${fmtRatio(r.vsDirect.us.median)} the time of dispatch())` : ''}`,
      ),
    });
  if (s.memory)
    list.push({
      title: '4. Heap growth after GC (MB, lower is better)',
      subtitle: `${s.memory.dispatches} dispatches without sync; heap after warm-up vs at the end, one run per contender; scale at least 5 MB, no bar when the heap shrank`,
      rows: rows(
        s.memory,
        (r) => r.growthMB,
        (r) => `${fmtMB(r.growthMB)} MB  (peak +${r.peakAboveBaselineMB.toFixed(1)} MB)`,
      ),
      minScale: 5,
    });
  if (s.latency)
    list.push({
      title: '5. End-to-end latency, dispatch to client socket via a Mesa server (ms, lower is better)',
      subtitle: `${s.latency.rate} msg/s for ${s.latency.seconds} s to ${s.latency.users} users; median of ${s.latency.rounds} rounds; lighter bar p50, darker bar p99`,
      rows: Object.entries(s.latency.contenders).flatMap(([key, r]) => [
        { label: `${r.label} p50`, value: r.median.p50, text: `p50 ${fmtMs(r.median.p50)} ms`, color: colorOf(key) + '99' },
        { label: `${r.label} p99`, value: r.median.p99, text: `p99 ${fmtMs(r.median.p99)} ms`, color: colorOf(key) },
      ]),
    });
  return list;
}

export function renderChart(results) {
  const noisy = results.config.smoke ? 'SMOKE RUN: tiny counts, the figures mean nothing. ' : '';
  const header = [
    text(20, 30, 'nestjs-mesa benchmark: @cryb/mesa Dispatcher vs raw ioredis vs nestjs-mesa', 'class="h1"'),
    text(20, 52, machineLine(results.machine), 'class="sub"'),
    text(
      20,
      70,
      `${noisy}Single machine; Redis, Mesa server and bench share its cores: compare bars within a panel, not with other machines.`,
      'class="sub"',
    ),
    text(
      20,
      88,
      Object.entries(results.config.modeText ?? {})
        .map(([mode, what]) => `[${mode}] ${what}`)
        .join('; '),
      'class="sub"',
    ),
  ];
  let y = 102;
  const body = [];
  for (const spec of panels(results)) {
    const { svg, height } = panel(y, spec);
    body.push(svg);
    y += height;
  }
  const style = `<style>
  text { font-family: Helvetica, Arial, sans-serif; fill: #222; }
  .h1 { font-size: 20px; font-weight: bold; } .title { font-size: 15px; font-weight: bold; }
  .sub { font-size: 12px; fill: #555; } .label { font-size: 12px; } .value { font-size: 12px; fill: #111; }
</style>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y + 10}" viewBox="0 0 ${WIDTH} ${y + 10}" role="img" aria-label="nestjs-mesa benchmark results">`,
    style,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...header,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
