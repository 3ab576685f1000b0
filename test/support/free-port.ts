import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Ports handed out below Linux's default ephemeral range, one slice per jest worker. */
const FIRST_PORT = 10_000;
const SLICE = 1_000;
const SLICES = 22;

let next = 0;

/**
 * A TCP port on 127.0.0.1 that nothing listens on, for a server a test starts in another process.
 *
 * Why not `listen(0)`: that port comes from the kernel's ephemeral range, the one every outgoing connection
 * (ioredis, Mesa clients, Chromium) and every in-process `listen(0)` also draws from, so between this check and
 * the child's own `bind` another worker could take it (CI saw Mesa exit with EADDRINUSE). Ports here come from
 * below that range, from a slice of its own for each jest worker, and are checked free before they are given.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const slice = (workerIndex() % SLICES) * SLICE;
  for (let tries = 0; tries < SLICE; tries++) {
    const port = FIRST_PORT + slice + (next++ % SLICE);
    if (port >= ephemeralLow) break;
    if (await isFree(port)) return port;
  }
  throw new Error(`freePort: no free port in ${FIRST_PORT + slice}–${FIRST_PORT + slice + SLICE - 1} below the ephemeral range`);
}

/** The kernel's ephemeral port range (`net.ipv4.ip_local_port_range`), Linux's default where unreadable. */
export function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 0 && high >= low) return [low, high];
  } catch {
    // not Linux: its default is a fair guess, and the check below still guards
  }
  return [32_768, 60_999];
}

function workerIndex(): number {
  const worker = Number(process.env.JEST_WORKER_ID);
  if (Number.isInteger(worker) && worker > 0) return worker - 1;
  return process.pid;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
