import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { callApi } from './support/chat-client.js';
import { buildSample, ROOT } from './support/sample-harness.js';
import { freePort } from '../support/free-port.js';
import { RedisServer } from '../support/redis-server.js';

/** `node dist-sample/start.js` (what `npm start` runs after building), with its output collected. */
class Cli {
  output = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [`${ROOT}dist-sample/start.js`], {
      cwd: ROOT,
      env: { ...process.env, SAMPLE_SECRET: '', MESA_NAMESPACE: '', HOST: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk) => (this.output += chunk));
    this.child.stderr!.on('data', (chunk) => (this.output += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves once the output contains `text`; rejects if the process exits first or after 20 s. */
  async waitFor(text: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!this.output.includes(text)) {
      if (this.child.exitCode !== null)
        throw new Error(`start.js exited (${this.child.exitCode}) without printing "${text}":\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`start.js did not print "${text}":\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Sends `signal` and resolves to the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A free port whose successor is free too (MESA_REPLICAS=2 uses MESA_PORT and MESA_PORT+1). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const next = await new Promise<boolean>((resolve) => {
      const server = createServer().once('error', () => resolve(false));
      server.listen(port + 1, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (next) return port;
  }
}

describe('npm start (sample/start.ts)', () => {
  const running: Cli[] = [];
  const cli = (env: Record<string, string>) => {
    const started = new Cli(env);
    running.push(started);
    return started;
  };
  beforeAll(() => buildSample(), 60_000);
  afterEach(async () => {
    await Promise.all(running.splice(0).map((started) => started.stop('SIGTERM')));
  });

  it('starts a private redis-server when nothing answers at REDIS_URL, and stops it on exit', async () => {
    const [port, mesaPort, redisPort] = [await freePort(), await freePort(), await freePort()];
    const app = cli({ PORT: String(port), MESA_PORT: String(mesaPort), REDIS_URL: `redis://127.0.0.1:${redisPort}` });
    await app.waitFor('Press Ctrl+C to stop.');
    expect(app.output).toContain(`starting a private redis-server on 127.0.0.1:${redisPort}`);
    expect(app.output).toContain(`Open http://127.0.0.1:${port}`);
    expect(app.output).toContain(`Mesa replica 1: ws://127.0.0.1:${mesaPort}`);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>nestjs-mesa · sample chat</title>');
    const session = await callApi(`http://127.0.0.1:${port}`, 'POST', '/api/session', undefined, { name: 'visitor' });
    expect(session.body.mesa).toEqual({ replica: 1, replicas: 1, port: mesaPort });

    expect(await app.stop('SIGTERM')).toBe(0);
    expect(app.output).toContain('Stopped.');
    expect(await Promise.all([listening(port), listening(mesaPort), listening(redisPort)])).toEqual([false, false, false]);
  }, 40_000);

  it('uses a Redis that answers, runs MESA_REPLICAS=2 on consecutive ports, and leaves that Redis alone', async () => {
    const redis = await RedisServer.start();
    try {
      const [port, mesaPort] = [await freePort(), await freePortPair()];
      const app = cli({ PORT: String(port), MESA_PORT: String(mesaPort), MESA_REPLICAS: '2', REDIS_URL: redis.url });
      await app.waitFor('Press Ctrl+C to stop.');
      expect(app.output).not.toContain('private redis-server');
      expect(app.output).toContain(`Mesa replica 2: ws://127.0.0.1:${mesaPort + 1}`);
      const ports = [];
      for (const name of ['one', 'two'])
        ports.push((await callApi(`http://127.0.0.1:${port}`, 'POST', '/api/session', undefined, { name })).body.mesa.port);
      expect(ports).toEqual([mesaPort, mesaPort + 1]);
      expect(await app.stop('SIGINT')).toBe(0);
      const client = redis.client();
      await expect(client.ping()).resolves.toBe('PONG');
      client.disconnect();
    } finally {
      await redis.stop();
    }
  }, 40_000);

  it('says how to get Redis when none answers and redis-server is not on the PATH', async () => {
    const app = cli({ PATH: '/nonexistent', REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(await app.exited).toBe(1);
    expect(app.output).toContain('redis-server is not on the PATH');
    expect(app.output).toContain('apt-get install redis-server');
  }, 20_000);

  it('refuses a configuration it cannot use, naming the variable', async () => {
    const app = cli({ MESA_REPLICAS: '12', REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(await app.exited).toBe(1);
    expect(app.output).toContain('MESA_REPLICAS must be between 1 and 8; got 12.');
  }, 20_000);
});
