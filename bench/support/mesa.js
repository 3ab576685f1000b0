// A real Mesa server (test/support/mesa-server.cjs) in a child process, and Mesa's own Node client as users.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.js';
import { killAndWait, spawnTracked } from './processes.js';

const require = createRequire(import.meta.url);
const { Client } = require('@cryb/mesa');
const SERVER_SCRIPT = fileURLToPath(new URL('../../test/support/mesa-server.cjs', import.meta.url));

export class MesaServer {
  constructor(port, child) {
    this.port = port;
    this.child = child;
  }

  get url() {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Starts one Mesa server on a free port, on Redis `redisUrl`, and waits for its "ready" line. */
  static async start(redisUrl, { sync = false } = {}) {
    const port = await freePort();
    const config = JSON.stringify({ port, redis: redisUrl, sync });
    const child = spawnTracked(process.execPath, [SERVER_SCRIPT, config], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Mesa server on ${port} not ready within 15 s`)), 15_000);
      child.stdout.on('data', (chunk) => {
        if (chunk.toString().includes(`ready ${port}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`Mesa server on ${port} exited with ${code}`))));
    });
    child.stdout.resume();
    return new MesaServer(port, child);
  }

  stop() {
    return killAndWait(this.child);
  }
}

/** Connects Mesa's Client to `url` and authenticates as `id`; `onMessage(message)` gets every dispatch. */
export async function connectUser(url, id, onMessage) {
  const client = new Client(url, { autoConnect: false });
  client.on('message', onMessage);
  client.on('error', () => undefined);
  await client.connect();
  await withTimeout(client.authenticate({ id, token: `token-${id}` }, { shouldSync: false }), 10_000, `authenticating ${id}`);
  return {
    id,
    close: () => {
      if (client.ws.readyState === 1) client.disconnect(1000);
    },
  };
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
