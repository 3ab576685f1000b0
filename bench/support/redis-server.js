// A private redis-server on a free port, started and killed by the bench (JS twin of test/support/redis-server.ts).
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { killAndWait, spawnTracked } from './processes.js';

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  constructor(port) {
    this.port = port;
    this.process = undefined;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a redis-server without persistence on a free port and waits until it answers PING. */
  static async start() {
    const server = new RedisServer(await freePort());
    const args = ['--port', String(server.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir()];
    server.process = spawnTracked('redis-server', args, { stdio: 'ignore' });
    const exited = new Promise((_, reject) =>
      server.process.once('exit', (code) => reject(new Error(`redis-server on ${server.port} exited with ${code}`))),
    );
    exited.catch(() => undefined);
    const probe = new Redis(server.port, '127.0.0.1', { retryStrategy: () => 20, maxRetriesPerRequest: null });
    probe.on('error', () => undefined);
    try {
      await Promise.race([probe.ping(), exited, timeout(10_000, 'redis-server did not answer PING within 10 s')]);
    } finally {
      probe.disconnect();
    }
    return server;
  }

  /** A new client to inspect or prepare data; the caller disconnects it. */
  client() {
    const client = new Redis(this.port, '127.0.0.1');
    client.on('error', () => undefined);
    return client;
  }

  /** The server's version, from INFO server. */
  async version() {
    const client = this.client();
    try {
      const info = await client.info('server');
      return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    } finally {
      client.disconnect();
    }
  }

  async stop() {
    if (this.process) await killAndWait(this.process);
  }
}

function timeout(ms, message) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}
