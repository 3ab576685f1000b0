// The printed table: one block per scenario, then the targets, from the results object run.js builds.
import {
  fmtLost,
  fmtMB,
  fmtMs,
  fmtPercent,
  fmtRate,
  fmtRatio,
  fmtUs,
  machineLine,
  modesOf,
  modeTag,
  ratio,
  scenarioEntries,
  throughputRuns,
} from './format.js';
import { targetRows } from './targets.js';

function block(title, headers, rows) {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('   ');
  return [title, `  ${line(headers)}`, `  ${widths.map((w) => '-'.repeat(w)).join('   ')}`, ...rows.map((row) => `  ${line(row)}`)].join(
    '\n',
  );
}

/** A column of a scenario's block: its header and how one contender's result gives its cell. */
const column = (header, cell) => ({ header, cell });
const label = column('contender', (r) => r.label);
const median = (header, key, format) => column(header, (r) => format(r.median[key]));
const vsRaw = (key, header = 'vs raw') => column(header, (r) => fmtRatio(ratio(r, key)));
const contenders = (scenario) => Object.values(scenario.contenders ?? {});
const gcColumns = [median('GC µs', 'gcUs', fmtUs), median('scavenges/1k', 'scavenges', fmtUs)];
/** A ratio stored under `into` (rounds.js ratiosTo), or blank when the result has none. */
const ratioIn = (header, into, metric) => column(header, (r) => (r[into]?.[metric] ? fmtRatio(r[into][metric].median) : ''));

/**
 * One entry per scenario, in the order printed: `blocks` gives each block's title and results (scenario 1 has one
 * per in-flight count), `columns` its cells, `footer` lines printed under it.
 */
const SECTIONS = [
  {
    key: 'throughput',
    blocks: (t) =>
      throughputRuns(t).map((run) => ({
        title:
          `1. Throughput, no sync${modeTag(t)}: ${t.dispatches} dispatches to ${t.recipients} recipients, ${run.inFlight} in flight, ` +
          `${run.recipientArrays === 'new' ? 'a new recipient array per call' : 'the same recipient array every call'}, median of ${t.rounds} ` +
          '(ratios: median of per-round ratios to raw; costs in µs per dispatch)',
        results: contenders(run),
      })),
    columns: [
      label,
      median('dispatches/s', 'rate', fmtRate),
      vsRaw('rate'),
      median('client CPU', 'clientCpuUs', fmtUs),
      vsRaw('clientCpuUs'),
      median('Redis cmd', 'redisCmdUs', fmtUs),
      median('Redis CPU', 'redisCpuUs', fmtUs),
      vsRaw('redisCpuUs'),
      median('1-core ceiling msg/s', 'ceiling', fmtRate),
      ...gcColumns,
    ],
  },
  {
    key: 'ceiling',
    title: (c) =>
      `1c. One Redis core saturated: ${c.batches} batches of ${c.batch} envelopes written back to back, each as its contender encodes it, median of ${c.rounds}`,
    columns: [
      label,
      median('msg/s', 'rate', fmtRate),
      vsRaw('rate'),
      median('Redis CPU µs/msg', 'redisCpuUs', fmtUs),
      median('msg/s at that CPU', 'ceiling', fmtRate),
    ],
  },
  {
    key: 'single',
    title: (g) =>
      `1b. One dispatch at a time${modeTag(g)}: ${g.dispatches} awaited dispatches to ${g.recipients} recipients per round, median of ${g.rounds} (ratios: median of per-round ratios to raw)`,
    columns: [
      label,
      median('p50 µs', 'p50', fmtUs),
      vsRaw('p50', 'p50 vs raw'),
      median('p99 µs', 'p99', fmtUs),
      vsRaw('p99', 'p99 vs raw'),
      median('dispatches/s', 'rate', fmtRate),
    ],
  },
  {
    key: 'sync',
    title: (y) =>
      `2. Sync${modeTag(y)}: ${y.members}-member room, ${y.online} online, ${y.dispatches} dispatches in flight per round, median of ${y.rounds}`,
    columns: [
      label,
      median('dispatches/s', 'rate', fmtRate),
      column('vs original', (r) => fmtRatio(r.vsOriginal)),
      column('LOST stored messages (all rounds)', (r) =>
        r.note ? 'n/a (reference, stores nothing)' : fmtLost(r.lostTotal, r.expectedTotal),
      ),
    ],
  },
  {
    key: 'sync-cpu',
    title: (c) =>
      `2b. Sync cost${modeTag(c)}: ${c.members}-member room, ${c.online} online, ${c.dispatches} dispatches per round, ${c.inFlight} in flight, median of ${c.rounds} (µs per dispatch)`,
    columns: [
      column('contender', (r) => (r.note ? `${r.label} (reference, no sync)` : r.label)),
      median('dispatches/s', 'rate', fmtRate),
      median('client CPU', 'clientCpuUs', fmtUs),
      vsRaw('clientCpuUs'),
      median('Redis cmd', 'redisCmdUs', fmtUs),
      median('Redis CPU', 'redisCpuUs', fmtUs),
      vsRaw('redisCpuUs'),
      ...gcColumns,
    ],
  },
  {
    key: 'decorator',
    title: (d) =>
      `3. @Dispatch overhead${modeTag(d)}: ${d.dispatches} dispatches, ${d.chunk} in flight, median of ${d.rounds} ` +
      "(ratios: median of per-round ratios to the same build's direct dispatch() and method by hand)",
    columns: [
      label,
      median('dispatches/s', 'rate', fmtRate),
      median('µs/call', 'us', fmtUs),
      ratioIn('vs dispatch()', 'vsDirect', 'us'),
      ratioIn('vs by hand', 'vsManual', 'us'),
      median('client CPU', 'clientCpuUs', fmtUs),
      ratioIn('CPU vs dispatch()', 'vsDirect', 'clientCpuUs'),
      ...gcColumns,
    ],
    footer: (d) =>
      d.overDirectPercent === undefined
        ? [`  @Dispatch vs the same method calling dispatcher.dispatch() by hand: ${fmtPercent(d.overheadPercent)} time per call`]
        : [
            `  @Dispatch vs a direct dispatcher.dispatch(): ${fmtPercent(d.overDirectPercent)} time per call; ` +
              `vs the same method calling it by hand: ${fmtPercent(d.overheadPercent)}`,
          ],
  },
  {
    key: 'telemetry',
    title: (t) =>
      `7. Telemetry cost${modeTag(t)}: ${t.dispatches} dispatches, ${t.chunk} in flight, median of ${t.rounds} ` +
      '(ratios: median of per-round ratios to telemetry: false without an SDK)',
    columns: [
      label,
      median('dispatches/s', 'rate', fmtRate),
      ratioIn('vs off', 'ratios', 'rate'),
      median('client CPU', 'clientCpuUs', fmtUs),
      ratioIn('CPU vs off', 'ratios', 'clientCpuUs'),
      ...gcColumns,
    ],
    footer: (t) => [
      `  throughput lost to telemetry: no SDK registered ${fmtPercent(t.noSdkPercent)} (target ≤ 3 %); ` +
        `SDK sampling nothing, with a MeterProvider ${fmtPercent(t.neverSamplingSdkPercent)} (target ≤ 10 %); ` +
        `that SDK with telemetry: false ${fmtPercent(t.sdkWithoutTelemetryPercent)}`,
    ],
  },
  {
    key: 'memory',
    title: (m) => `4. Memory: ${m.dispatches} dispatches without sync, heap after GC (one run per contender)`,
    columns: [
      label,
      column('heap before MB', (r) => r.heapBeforeMB.toFixed(2)),
      column('heap after MB', (r) => r.heapAfterMB.toFixed(2)),
      column('growth MB', (r) => fmtMB(r.growthMB)),
      column('peak above baseline MB', (r) => fmtMB(r.peakAboveBaselineMB)),
    ],
  },
  {
    key: 'latency',
    title: (l) =>
      `5. Latency, dispatch -> Mesa server -> client socket: ${l.rate} msg/s for ${l.seconds} s to ${l.users} users, median of ${l.rounds}`,
    columns: [
      label,
      median('p50 ms', 'p50', fmtMs),
      median('p99 ms', 'p99', fmtMs),
      median('max ms', 'max', fmtMs),
      median('achieved msg/s', 'rate', fmtRate),
    ],
  },
  {
    key: 'backlog-blocking',
    title: (b) =>
      `6. Backlog blocking, sync: ${b.dispatches} dispatches one at a time to ${b.users} offline users with a stored backlog; another client PINGs meanwhile`,
    results: (b) => b.rows,
    columns: [
      label,
      column('backlog', (r) => r.size.toLocaleString('en-US')),
      column('dispatch median ms', (r) => fmtMs(r.dispatchMedianMs)),
      column('PING p50 ms', (r) => fmtMs(r.pingP50Ms)),
      column('PING p99 ms', (r) => fmtMs(r.pingP99Ms)),
      column('PING max ms', (r) => fmtMs(r.pingMaxMs)),
    ],
  },
  {
    key: 'backlog-blocking',
    blocks: (b) =>
      b.atCap
        ? [
            {
              title: `6b. At the default byte cap: one dispatch to N offline users whose backlogs hold ${Math.round(b.atCap.bytes / 1024)} KB each (default options); another client PINGs meanwhile`,
              results: b.atCap.rows,
            },
          ]
        : [],
    columns: [
      label,
      column('users', (r) => r.users.toLocaleString('en-US')),
      column('dispatch ms', (r) => fmtMs(r.dispatchMs)),
      column('script calls', (r) => String(r.scriptCalls)),
      column('longest call ms', (r) => String(r.longestCallMs)),
      column('PING p50 ms', (r) => fmtMs(r.pingP50Ms)),
      column('PING p99 ms', (r) => fmtMs(r.pingP99Ms)),
      column('PING max ms', (r) => fmtMs(r.pingMaxMs)),
    ],
  },
  {
    key: 'backlog-blocking',
    blocks: (b) =>
      b.sweep
        ? [
            {
              title: `6c. Sweep: one pass over ${b.sweep.users} users whose backlogs hold ${Math.round(b.sweep.bytes / 1024)} KB of expiring messages each; another client PINGs meanwhile`,
              results: b.sweep.rows,
            },
          ]
        : [],
    columns: [
      label,
      column('phase', (r) => r.phase),
      column('pass ms', (r) => fmtMs(r.passMs)),
      column('steps', (r) => String(r.steps)),
      column('longest step ms', (r) => String(r.longestCallMs)),
      column('PING p50 ms', (r) => fmtMs(r.pingP50Ms)),
      column('PING p99 ms', (r) => fmtMs(r.pingP99Ms)),
      column('PING max ms', (r) => fmtMs(r.pingMaxMs)),
    ],
  },
];

function sectionBlocks(section, scenario) {
  const blocks = section.blocks
    ? section.blocks(scenario)
    : [{ title: section.title(scenario), results: (section.results ?? contenders)(scenario) }];
  const headers = section.columns.map((c) => c.header);
  return blocks.flatMap(({ title, results }) => [
    block(
      title,
      headers,
      results.map((r) => section.columns.map((c) => c.cell(r))),
    ),
    ...(section.footer?.(scenario) ?? []),
    '',
  ]);
}

export function renderTable(results) {
  const { machine, config, scenarios: s } = results;
  const out = [
    `nestjs-mesa bench — ${machineLine(machine)}`,
    `rounds=${config.rounds} scale=${config.scale}${config.smoke ? ' SMOKE (tiny counts, figures meaningless)' : ''}` +
      `${config.builds ? `; builds: ${config.builds.map((b) => `${b.name} @ ${b.rev}`).join(', ')}` : ''}`,
    ...Object.entries(config.modeText ?? {}).map(([mode, text]) => `[${mode}] ${text}`),
    '',
  ];
  for (const section of SECTIONS) for (const scenario of scenarioEntries(s, section.key)) out.push(...sectionBlocks(section, scenario));
  for (const mode of modesOf(results)) {
    const { title, headers, rows } = targetRows(results, mode);
    if (rows.length) out.push(block(title, headers, rows), '');
  }
  const failed = results.checks.failures;
  out.push(
    failed.length
      ? `COUNTING CHECKS FAILED (${failed.length}):\n${failed.map((f) => `  - ${f.split('\n')[0]}`).join('\n')}`
      : 'All counting checks passed.',
  );
  return out.join('\n');
}
