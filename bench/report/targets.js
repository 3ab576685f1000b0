// The six figures of the "Performance, round two" targets, from a results object: one row per figure, one
// cell per contender (raw, original, nestjs, baseline when present) and the target. Ratios are medians of
// per-round ratios to raw ioredis; absolute figures are medians of rounds. Printed, never asserted.
import { fmtRate, fmtRatio, fmtUs, ratio, throughputRuns } from './format.js';

export const TARGET_CONTENDERS = ['raw', 'original', 'nestjs', 'baseline'];

/** { headers, rows } for the targets table; contenders absent from every scenario get no column. */
export function targetRows(results) {
  const s = results.scenarios;
  const runs = s.throughput ? throughputRuns(s.throughput) : [];
  const present = new Set([
    ...runs.flatMap((run) => Object.keys(run.contenders)),
    ...Object.keys(s['sync-cpu']?.contenders ?? {}),
    ...Object.keys(s.single?.contenders ?? {}),
    ...Object.keys(s.ceiling?.contenders ?? {}),
  ]);
  const keys = TARGET_CONTENDERS.filter((key) => present.has(key));
  // short column names (the scenario tables above give the full labels); the baseline's names its commit
  const baselineLabel = [
    ...runs.map((run) => run.contenders.baseline),
    s['sync-cpu']?.contenders.baseline,
    s.single?.contenders.baseline,
  ].find(Boolean)?.label;
  const nameOf = (key) => (key === 'baseline' && baselineLabel ? `baseline ${baselineLabel.replace(/^nestjs-mesa /, '')}` : key);
  const headers = ['figure', ...keys.map(nameOf), 'target'];
  const rows = [];
  const run = (inFlight) => runs.find((r) => r.inFlight === inFlight);
  const cells = (cell) => keys.map((key) => cell(key));
  const perRun = (describe) => (key) => {
    const values = runs.map((r) => r.contenders[key]).filter(Boolean);
    return values.length ? values.map(describe).join(' / ') : 'n/a';
  };
  const inFlightList = runs.map((r) => r.inFlight.toLocaleString('en-US')).join(' / ');

  for (const inFlight of [1000, 10_000]) {
    const r = run(inFlight);
    rows.push([
      `throughput vs raw publish, ${inFlight.toLocaleString('en-US')} in flight`,
      ...cells((key) => (r?.contenders[key] ? fmtRatio(ratio(r.contenders[key], 'rate')) : 'n/a')),
      '>= 3x raw',
    ]);
  }
  rows.push([
    `Redis cmd µs/dispatch, no sync (${inFlightList} in flight)`,
    ...cells(perRun((c) => fmtUs(c.median.redisCmdUs))),
    '<= 1.1 µs',
  ]);
  const syncCpu = s['sync-cpu'];
  rows.push([
    `sync client CPU µs/dispatch (${syncCpu?.members ?? 100} members, ${syncCpu?.online ?? 50} online, ${syncCpu?.inFlight ?? 100} in flight)`,
    ...cells((key) => {
      const c = syncCpu?.contenders[key];
      if (!c) return key === 'original' ? 'n/a (not run)' : 'n/a';
      return `${fmtUs(c.median.clientCpuUs)}${c.note ? ' (no sync)' : ''}`;
    }),
    '<= 12 µs',
  ]);
  rows.push([
    'one dispatch at a time: p50 vs raw',
    ...cells((key) => {
      const c = s.single?.contenders[key];
      if (!c) return key === 'original' ? 'n/a (returns nothing)' : 'n/a';
      return `${fmtRatio(ratio(c, 'p50'))} (p50 ${fmtUs(c.median.p50)} µs)`;
    }),
    '<= 1.05x',
  ]);
  const ceiling = s.ceiling;
  rows.push([
    'one Redis core saturated by 256-envelope batches: msg/s',
    ...cells((key) => {
      const c = ceiling?.contenders[key];
      if (!c) return key === 'original' ? 'as raw (PUBLISH)' : 'n/a';
      return fmtRate(c.median.rate);
    }),
    '>= 900,000 msg/s',
  ]);
  rows.push([
    `  the same from Redis CPU per message in the throughput rounds (${inFlightList} in flight)`,
    ...cells(perRun((c) => fmtRate(c.median.ceiling))),
    '',
  ]);
  return { headers, rows };
}
