// The printed table: one block per scenario, then the targets, from the results object run.js builds.
import { fmtLost, fmtMB, fmtMs, fmtPercent, fmtRate, fmtRatio, fmtUs, machineLine, ratio, throughputRuns } from './format.js';
import { targetRows } from './targets.js';

function block(title, headers, rows) {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('   ');
  return [title, `  ${line(headers)}`, `  ${widths.map((w) => '-'.repeat(w)).join('   ')}`, ...rows.map((row) => `  ${line(row)}`)].join(
    '\n',
  );
}

const entries = (scenario) => Object.entries(scenario?.contenders ?? {});

export function renderTable(results) {
  const { machine, config, scenarios: s } = results;
  const out = [
    `nestjs-mesa bench — ${machineLine(machine)}`,
    `rounds=${config.rounds} scale=${config.scale}${config.smoke ? ' SMOKE (tiny counts, figures meaningless)' : ''}`,
    '',
  ];
  if (s.throughput) {
    const t = s.throughput;
    for (const run of throughputRuns(t)) {
      out.push(
        block(
          `1. Throughput, no sync: ${t.dispatches} dispatches to ${t.recipients} recipients, ${run.inFlight} in flight, median of ${t.rounds} ` +
            '(ratios: median of per-round ratios to raw; costs in µs per dispatch)',
          ['contender', 'dispatches/s', 'vs raw', 'client CPU', 'vs raw', 'Redis cmd', 'Redis CPU', 'vs raw', '1-core ceiling msg/s'],
          entries(run).map(([, r]) => [
            r.label,
            fmtRate(r.median.rate),
            fmtRatio(ratio(r, 'rate')),
            fmtUs(r.median.clientCpuUs),
            fmtRatio(ratio(r, 'clientCpuUs')),
            fmtUs(r.median.redisCmdUs),
            fmtUs(r.median.redisCpuUs),
            fmtRatio(ratio(r, 'redisCpuUs')),
            fmtRate(r.median.ceiling),
          ]),
        ),
        '',
      );
    }
  }
  if (s.ceiling) {
    const c = s.ceiling;
    out.push(
      block(
        `1c. One Redis core saturated: ${c.batches} batches of ${c.batch} envelopes written back to back, each as its contender encodes it, median of ${c.rounds}`,
        ['contender', 'msg/s', 'vs raw', 'Redis CPU µs/msg', 'msg/s at that CPU'],
        entries(c).map(([, r]) => [
          r.label,
          fmtRate(r.median.rate),
          fmtRatio(ratio(r, 'rate')),
          fmtUs(r.median.redisCpuUs),
          fmtRate(r.median.ceiling),
        ]),
      ),
      '',
    );
  }
  if (s.single) {
    const g = s.single;
    out.push(
      block(
        `1b. One dispatch at a time: ${g.dispatches} awaited dispatches to ${g.recipients} recipients per round, median of ${g.rounds} (ratios: median of per-round ratios to raw)`,
        ['contender', 'p50 µs', 'p50 vs raw', 'p99 µs', 'p99 vs raw', 'dispatches/s'],
        entries(g).map(([, r]) => [
          r.label,
          fmtUs(r.median.p50),
          fmtRatio(ratio(r, 'p50')),
          fmtUs(r.median.p99),
          fmtRatio(ratio(r, 'p99')),
          fmtRate(r.median.rate),
        ]),
      ),
      '',
    );
  }
  if (s.sync) {
    const y = s.sync;
    out.push(
      block(
        `2. Sync: ${y.members}-member room, ${y.online} online, ${y.dispatches} dispatches in flight per round, median of ${y.rounds}`,
        ['contender', 'dispatches/s', 'vs original', 'LOST stored messages (all rounds)'],
        entries(y).map(([, r]) => [
          r.label,
          fmtRate(r.median.rate),
          fmtRatio(r.vsOriginal),
          r.note ? 'n/a (reference, stores nothing)' : fmtLost(r.lostTotal, r.expectedTotal),
        ]),
      ),
      '',
    );
  }
  if (s['sync-cpu']) {
    const c = s['sync-cpu'];
    out.push(
      block(
        `2b. Sync cost: ${c.members}-member room, ${c.online} online, ${c.dispatches} dispatches per round, ${c.inFlight} in flight, median of ${c.rounds} (µs per dispatch)`,
        ['contender', 'dispatches/s', 'client CPU', 'vs raw', 'Redis cmd', 'Redis CPU', 'vs raw'],
        entries(c).map(([, r]) => [
          r.note ? `${r.label} (reference, no sync)` : r.label,
          fmtRate(r.median.rate),
          fmtUs(r.median.clientCpuUs),
          fmtRatio(ratio(r, 'clientCpuUs')),
          fmtUs(r.median.redisCmdUs),
          fmtUs(r.median.redisCpuUs),
          fmtRatio(ratio(r, 'redisCpuUs')),
        ]),
      ),
      '',
    );
  }
  if (s.decorator) {
    const d = s.decorator;
    out.push(
      block(
        `3. @Dispatch overhead: ${d.dispatches} dispatches, ${d.chunk} in flight, median of ${d.rounds}`,
        ['contender', 'dispatches/s'],
        entries(d).map(([, r]) => [r.label, fmtRate(r.median.rate)]),
      ),
      `  @Dispatch vs the same method calling dispatcher.dispatch() by hand: ${fmtPercent(d.overheadPercent)} time per call`,
      '',
    );
  }
  if (s.memory) {
    const m = s.memory;
    out.push(
      block(
        `4. Memory: ${m.dispatches} dispatches without sync, heap after GC (one run per contender)`,
        ['contender', 'heap before MB', 'heap after MB', 'growth MB', 'peak above baseline MB'],
        entries(m).map(([, r]) => [
          r.label,
          r.heapBeforeMB.toFixed(2),
          r.heapAfterMB.toFixed(2),
          fmtMB(r.growthMB),
          fmtMB(r.peakAboveBaselineMB),
        ]),
      ),
      '',
    );
  }
  if (s.latency) {
    const l = s.latency;
    out.push(
      block(
        `5. Latency, dispatch -> Mesa server -> client socket: ${l.rate} msg/s for ${l.seconds} s to ${l.users} users, median of ${l.rounds}`,
        ['contender', 'p50 ms', 'p99 ms', 'max ms', 'achieved msg/s'],
        entries(l).map(([, r]) => [r.label, fmtMs(r.median.p50), fmtMs(r.median.p99), fmtMs(r.median.max), fmtRate(r.median.rate)]),
      ),
      '',
    );
  }
  if (s['backlog-blocking']) {
    const b = s['backlog-blocking'];
    out.push(
      block(
        `6. Backlog blocking, sync: ${b.dispatches} dispatches one at a time to ${b.users} offline users with a stored backlog; another client PINGs meanwhile`,
        ['contender', 'backlog', 'dispatch median ms', 'PING p50 ms', 'PING p99 ms', 'PING max ms'],
        b.rows.map((r) => [
          r.label,
          r.size.toLocaleString('en-US'),
          fmtMs(r.dispatchMedianMs),
          fmtMs(r.pingP50Ms),
          fmtMs(r.pingP99Ms),
          fmtMs(r.pingMaxMs),
        ]),
      ),
      '',
    );
  }
  if (s.throughput || s['sync-cpu'] || s.single) {
    const { headers, rows } = targetRows(results);
    out.push(block('Targets ("Performance, round two"; measured, not asserted)', headers, rows), '');
  }
  const failed = results.checks.failures;
  out.push(
    failed.length
      ? `COUNTING CHECKS FAILED (${failed.length}):\n${failed.map((f) => `  - ${f.split('\n')[0]}`).join('\n')}`
      : 'All counting checks passed.',
  );
  return out.join('\n');
}
