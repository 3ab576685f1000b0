// The targets of issue 21 ("Performance, round three") and the rest of round two's, from a results object: one
// table per mode the run measured in (the targets are about in-process figures), one row per figure, one cell per
// contender (raw, original, nestjs, baseline when present) and the target. Ratios are medians of per-round ratios
// (in-process: to the raw ioredis, original or direct dispatch() of the contender's own process); absolute figures
// are medians of rounds. Printed, never asserted.
import { fmtLost, fmtRate, fmtRatio, fmtUs, ratio, scenarioKey, throughputRun, throughputRuns } from './format.js';

export const TARGET_CONTENDERS = ['raw', 'original', 'nestjs', 'baseline'];

/** { title, headers, rows } for the targets table of `mode` (undefined: results from before modes); no rows when nothing ran. */
export function targetRows(results, mode) {
  const get = (name) => results.scenarios[scenarioKey(name, mode)];
  const throughput = get('throughput');
  const runs = throughput ? throughputRuns(throughput) : [];
  const syncCpu = get('sync-cpu');
  const sync = get('sync');
  const single = get('single');
  const decorator = get('decorator');
  // the ceiling does not depend on the mode: it goes in the first table only
  const ceiling = mode === (results.config.modes ?? [undefined])[0] ? results.scenarios.ceiling : undefined;
  const scenarios = [...runs, syncCpu, sync, single, decorator, ceiling].filter(Boolean);
  const present = new Set(scenarios.flatMap((scenario) => Object.keys(scenario.contenders)));
  const keys = TARGET_CONTENDERS.filter((key) => present.has(key));
  const title = `Targets (issue 21 "Performance, round three", then round two's others)${mode ? `, ${mode}` : ''}; measured, not asserted`;
  if (!keys.length) return { title, headers: [], rows: [] };
  // short column names (the scenario tables above give the full labels); the baseline's names its commit
  const baselineLabel = scenarios.map((scenario) => scenario.contenders.baseline).find(Boolean)?.label;
  const nameOf = (key) => (key === 'baseline' && baselineLabel ? `baseline ${baselineLabel.replace(/^nestjs-mesa /, '')}` : key);
  const headers = ['figure', ...keys.map(nameOf), 'target'];
  const rows = [];
  const cells = (cell) => keys.map((key) => cell(key));
  const sameArrayRuns = runs.filter((run) => (run.recipientArrays ?? 'same') === 'same');
  const perRun = (describe) => (key) => {
    const values = sameArrayRuns.map((r) => r.contenders[key]).filter(Boolean);
    return values.length ? values.map(describe).join(' / ') : 'n/a';
  };
  const inFlightList = sameArrayRuns.map((r) => r.inFlight.toLocaleString('en-US')).join(' / ');

  for (const [inFlight, target] of [
    [1000, '>= 3x (stretch 4x)'],
    [10_000, '>= 3x'],
  ]) {
    const run = throughputRun(throughput, inFlight);
    rows.push([
      `dispatch vs raw auto-pipelined publish, ${inFlight.toLocaleString('en-US')} in flight (dispatches/s)`,
      ...cells((key) => (run?.contenders[key] ? fmtRatio(ratio(run.contenders[key], 'rate')) : 'n/a')),
      target,
    ]);
  }
  // the decorated method of a build is `decorated` (this checkout) or `baseline-decorated`
  const decorated = (key) => decorator?.contenders[key === 'nestjs' ? 'decorated' : `${key}-decorated`];
  rows.push([
    '@Dispatch method vs direct dispatch(): time per call (client CPU)',
    ...cells((key) => {
      const d = decorated(key);
      if (!d?.vsDirect) return 'n/a';
      return `${fmtRatio(d.vsDirect.us.median)} (${fmtRatio(d.vsDirect.clientCpuUs.median)})`;
    }),
    '<= 1.05x',
  ]);
  for (const [arrays, figure, target] of [
    ['new', 'client CPU µs/dispatch, a new 2-id array each call (1,000 in flight)', '<= 3 µs'],
    ['same', '  the same with the same array every call', ''],
  ]) {
    const run = throughputRun(throughput, 1000, arrays);
    rows.push([figure, ...cells((key) => (run?.contenders[key] ? fmtUs(run.contenders[key].median.clientCpuUs) : 'n/a')), target]);
  }
  rows.push([
    `Redis cmd µs/dispatch, no sync (${inFlightList} in flight)`,
    ...cells(perRun((c) => fmtUs(c.median.redisCmdUs))),
    '<= 1.1 µs',
  ]);
  rows.push([
    `sync to a ${sync?.members ?? 100}-member room (${sync?.online ?? 50} online): dispatches/s vs original; stored messages lost`,
    ...cells((key) => {
      const c = sync?.contenders[key];
      if (!c) return 'n/a';
      if (c.note) return 'n/a (stores nothing)';
      return `${fmtRatio(c.vsOriginal)}; lost ${fmtLost(c.lostTotal, c.expectedTotal)}`;
    }),
    '>= 20x, 0 lost',
  ]);
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
      const c = single?.contenders[key];
      if (!c) return key === 'original' ? 'n/a (returns nothing)' : 'n/a';
      return `${fmtRatio(ratio(c, 'p50'))} (p50 ${fmtUs(c.median.p50)} µs)`;
    }),
    '<= 1.05x',
  ]);
  if (ceiling) {
    rows.push([
      'one Redis core saturated by 256-envelope batches: msg/s',
      ...cells((key) => {
        const c = ceiling.contenders[key];
        if (!c) return key === 'original' ? 'as raw (PUBLISH)' : 'n/a';
        return fmtRate(c.median.rate);
      }),
      '>= 900,000 msg/s',
    ]);
  }
  rows.push([
    `  one Redis core from Redis CPU per message in the throughput rounds (${inFlightList} in flight)`,
    ...cells(perRun((c) => fmtRate(c.median.ceiling))),
    '',
  ]);
  // a figure no scenario of this run measured is left out
  const measured = (cell) => cell !== '' && !String(cell).startsWith('n/a') && cell !== 'as raw (PUBLISH)';
  return { title, headers, rows: rows.filter((row) => row.slice(1, -1).some(measured)) };
}
