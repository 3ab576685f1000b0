// Benchmark harness entry point. See bench/README.md.
//   npm run bench                       builds ./dist, runs every scenario, writes docs/bench/{results.json,chart.svg}
//   BENCH_SMOKE=1 npm run bench         CI: tiny counts, exits non-zero when a counting check fails
//   node bench/run.js --render [file]   reprints the table and redraws chart.svg from a results.json
// Starts a private redis-server (and a Mesa server for the latency scenario) and kills them when it ends.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args[0] === '--render') {
  const { renderTable } = await import('./report/table.js');
  const { renderChart } = await import('./report/chart.js');
  const file = resolve(args[1] ?? fileURLToPath(new URL('../docs/bench/results.json', import.meta.url)));
  const results = JSON.parse(await readFile(file, 'utf8'));
  process.stdout.write(`${renderTable(results)}\n`);
  await writeFile(join(dirname(file), 'chart.svg'), renderChart(results));
  process.stdout.write(`wrote ${join(dirname(file), 'chart.svg')}\n`);
} else if (!existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))) {
  process.stderr.write('bench: ./dist is missing; run `npm run bench` (it builds first) or `npm run build`.\n');
  process.exit(1);
} else if (typeof globalThis.gc !== 'function') {
  // The memory scenario forces collections: run again under --expose-gc, forwarding signals and the exit code.
  const child = spawn(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  const { main } = await import('./support/main.js');
  await main();
}
