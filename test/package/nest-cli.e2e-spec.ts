import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callApi } from '../sample/support/chat-client.js';
import { freePort } from '../support/free-port.js';
import { RedisServer } from '../support/redis-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the Nest CLI (nest-cli.json)', () => {
  let redis: RedisServer;
  let cli: ChildProcess | undefined;
  beforeAll(async () => (redis = await RedisServer.start()));
  afterAll(async () => {
    if (cli && cli.exitCode === null && cli.signalCode === null) {
      const exited = new Promise((resolve) => cli!.once('exit', resolve));
      process.kill(-cli.pid!, 'SIGKILL');
      await exited;
    }
    await redis.stop();
  });

  it('names the sample entry that exists', () => {
    const config = JSON.parse(readFileSync(join(ROOT, 'nest-cli.json'), 'utf8'));
    expect(existsSync(join(ROOT, config.sourceRoot, `${config.entryFile}.ts`))).toBe(true);
    expect(existsSync(join(ROOT, config.compilerOptions.tsConfigPath))).toBe(true);
  });

  it('`nest start` (npm run start:nest) builds and starts the sample, whose page and API answer', async () => {
    const [port, mesaPort] = [await freePort(), await freePort()];
    cli = spawn(process.execPath, ['tools/nest-cli/nest.mjs', 'start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        MESA_PORT: String(mesaPort),
        REDIS_URL: redis.url,
        HOST: '127.0.0.1',
        MESA_NAMESPACE: 'nest-cli',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: the CLI and the sample it forks are stopped together
    });
    let output = '';
    cli.stdout!.on('data', (chunk) => (output += chunk));
    cli.stderr!.on('data', (chunk) => (output += chunk));
    // 'close', not 'exit': the sample the CLI forked shares its pipes, and may print its last lines after the CLI has exited
    const exited = new Promise<number | string>((resolve) => cli!.once('close', (code, signal) => resolve(code ?? String(signal))));

    const deadline = Date.now() + 120_000;
    while (!output.includes(`Open http://127.0.0.1:${port}`)) {
      if (cli.exitCode !== null) throw new Error(`nest start exited (${cli.exitCode}):\n${output}`);
      if (Date.now() > deadline) throw new Error(`nest start did not print the page's address:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const baseUrl = `http://127.0.0.1:${port}`;
    const page = await fetch(baseUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const session = await callApi(baseUrl, 'POST', '/api/session', undefined, { name: 'Ada' });
    expect(session.status).toBe(201);
    expect(typeof session.body.token).toBe('string');

    process.kill(-cli.pid!, 'SIGTERM');
    expect(await exited).not.toBe('still running');
    expect(output).toContain('Stopped.');
  }, 180_000);
});
