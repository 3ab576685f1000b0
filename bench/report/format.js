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
  return (
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, redis-server ${machine.redis}, ` +
    `${machine.os}, load ${machine.loadAverageAtStart.join('/')} at start, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`
  );
}
