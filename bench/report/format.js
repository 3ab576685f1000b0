// Formatting shared by the printed table and the SVG chart: numbers, and the line naming the machine.

export function fmtRate(value) {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

export function fmtRatio(value) {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}

export function fmtMs(value) {
  if (!Number.isFinite(value)) return 'n/a';
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

/** Microseconds: two decimals under 10, one under 1000, none above. */
export function fmtUs(value) {
  if (!Number.isFinite(value)) return 'n/a';
  return value < 10 ? value.toFixed(2) : value < 1000 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US');
}

export function fmtMB(value) {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(2)}` : 'n/a';
}

export function fmtPercent(value) {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(1)}%` : 'n/a';
}

/** "a of b (p%)" for lost message counts. */
export function fmtLost(lost, expected) {
  if (!Number.isFinite(lost) || !expected) return 'n/a';
  return `${lost.toLocaleString('en-US')} of ${expected.toLocaleString('en-US')} (${((lost / expected) * 100).toFixed(1)}%)`;
}

/** One line naming the machine a run was taken on (results.machine, built by support/main.js). */
export function machineLine(machine) {
  const end = machine.loadAverageAtEnd ? `, ${machine.loadAverageAtEnd.join('/')} at end` : '';
  return (
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, redis-server ${machine.redis}, ` +
    `${machine.os}, load (1/5/15 min) ${machine.loadAverageAtStart.join('/')} at start${end}, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`
  );
}

/** The throughput scenario's runs, one per in-flight count (results written before there were several: one run). */
export function throughputRuns(throughput) {
  return throughput.runs ?? [{ inFlight: throughput.chunk, contenders: throughput.contenders }];
}

/** The median of per-round ratios to raw ioredis of `metric`, or NaN when the run did not record it. */
export function ratio(result, metric) {
  return result?.ratios?.[metric]?.median ?? (metric === 'rate' ? (result?.vsRaw ?? NaN) : NaN);
}

/** Where a scenario's results go in results.scenarios: its name, with `@isolated` appended for isolated mode. */
export function scenarioKey(name, mode) {
  return mode === 'isolated' ? `${name}@isolated` : name;
}

/** Scenario `name`'s results in every mode it ran in, in-process first (results from before modes: its one entry). */
export function scenarioEntries(scenarios, name) {
  return [scenarios[name], scenarios[scenarioKey(name, 'isolated')]].filter(Boolean);
}

/** ` [in-process]` or ` [isolated]` (and which modes its rounds interleaved with) for a scenario's titles; nothing for results from before modes. */
export function modeTag(scenario) {
  if (!scenario.mode) return '';
  const others = (scenario.interleavedModes ?? []).filter((mode) => mode !== scenario.mode);
  return ` [${scenario.mode}${others.length ? `, rounds interleaved with ${others.join(', ')}` : ''}]`;
}

/** The modes a results object holds figures from, in-process first ([undefined] for results from before modes). */
export function modesOf(results) {
  return results.config.modes ?? [undefined];
}

/** The run of the throughput scenario with `inFlight` dispatches in flight and the same ('same') or a new ('new') recipient array per call. */
export function throughputRun(throughput, inFlight, arrays = 'same') {
  return throughput && throughputRuns(throughput).find((run) => run.inFlight === inFlight && (run.recipientArrays ?? 'same') === arrays);
}
