import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '../support/mesa-user.js';
import { eventually } from '../support/mesa-app.js';
import { freePort } from '../support/free-port.js';
import { RedisServer } from '../support/redis-server.js';
import { ConsumerWorkspace, ROOT, TARBALL } from '../consumers/support/consumer-workspace.js';
import { readme, readmeBlocks, type ReadmeBlock } from './readme-blocks.js';
import { typeCheckAgainstPackage } from './type-check-against-package.js';

const run = promisify(execFile);
const SECRET = 'readme-test-secret';
const REPO = 'https://github.com/nestjs-mesa/nestjs-mesa';

/** A process of the Quick start (the API or the Mesa server), with its output kept for failure messages. */
class Proc {
  output = '';
  readonly child: ChildProcess;
  constructor(args: string[], cwd: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk) => (this.output += chunk));
    this.child.stderr!.on('data', (chunk) => (this.output += chunk));
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** Mesa's own client, signed in the way the Quick start's Mesa server checks (token = HMAC-SHA256(id)), recording what it gets. */
class SignedInUser {
  readonly received: Array<{ op: number; d: unknown; t?: string; s?: number }> = [];
  private constructor(private readonly client: InstanceType<typeof Client>) {
    client.on('message', (m: { opcode: number; data: unknown; type?: string; sequence?: number }) =>
      this.received.push({ op: m.opcode, d: m.data, t: m.type, s: m.sequence }),
    );
  }

  static async signIn(url: string, id: string): Promise<SignedInUser> {
    const client = new Client(url, { autoConnect: false });
    const user = new SignedInUser(client);
    await client.connect();
    await client.authenticate({ id, token: createHmac('sha256', SECRET).update(id).digest('hex') }, { shouldSync: true });
    return user;
  }

  of(type: string) {
    return this.received.filter((message) => message.t === type);
  }

  close(): void {
    if (this.client.ws.readyState === 1) this.client.disconnect(1000);
  }
}

const post = async (url: string, body: unknown) => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
};

describe('README.md', () => {
  const blocks = readmeBlocks();
  const files = blocks.filter((block) => block.file);
  const snippets = blocks.filter((block) => !block.file && block.lang === 'ts');

  it('holds the Quick start files and code blocks in known languages only', () => {
    expect(files.map((block) => block.file)).toEqual([
      'package.json',
      'tsconfig.json',
      'src/app.module.ts',
      'src/messages.controller.ts',
      'src/main.ts',
      'mesa-server.cjs',
    ]);
    expect(blocks.filter((block) => !['ts', 'js', 'json', 'sh'].includes(block.lang)).map((b) => `line ${b.line}: ${b.lang}`)).toEqual([]);
    expect(snippets.length).toBeGreaterThan(5);
  });

  it('links and images work on the registry page: absolute URLs or anchors of this README', () => {
    const text = readme();
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]);
    expect(targets.filter((target) => !target.startsWith('https://') && !target.startsWith('#'))).toEqual([]);
    const anchors = new Set(
      [...text.matchAll(/^#{2,4} (.+)$/gm)].map((match) =>
        match[1]
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    expect(targets.filter((target) => target.startsWith('#') && !anchors.has(target.slice(1)))).toEqual([]);
    expect(
      targets.filter((target) => target.startsWith(REPO) || target.includes('raw.githubusercontent.com/nestjs-mesa/nestjs-mesa/')),
    ).not.toEqual([]);
  });

  it('neither README.md nor docs/ holds an HTML comment (a draft note to a reviewer, invisible on GitHub, shows in the raw file)', async () => {
    const { stdout } = await run('git', ['ls-files', 'README.md', 'CONTRIBUTING.md', 'docs/*.md', 'bench/*.md'], { cwd: ROOT });
    const pages = stdout.split('\n').filter(Boolean);
    expect(pages.length).toBeGreaterThan(3);
    expect(pages.filter((page) => readFileSync(join(ROOT, page), 'utf8').includes('<!--'))).toEqual([]);
  });

  it('states the Node range package.json declares', () => {
    const { engines } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(engines.node).toBe('>=20.19');
    expect(readme()).toContain('Node ≥ 20.19');
  });

  it('every other ts block is a module that type-checks against the packed package', async () => {
    const sources = Object.fromEntries(snippets.map((block: ReadmeBlock) => [`readme-line-${block.line}.ts`, block.code]));
    await typeCheckAgainstPackage('readme-snippets', sources, [
      '@nestjs/common',
      '@nestjs/core',
      '@nestjs/config',
      '@nestjs/terminus',
      '@nestjs/testing',
      '@opentelemetry/api',
      '@opentelemetry/exporter-prometheus',
      '@opentelemetry/exporter-trace-otlp-http',
      '@opentelemetry/sdk-metrics',
      '@opentelemetry/sdk-trace-node',
      'reflect-metadata',
      'rxjs',
    ]);
  }, 240_000);

  describe('the Quick start, in an empty folder with only the installs it lists', () => {
    // The Quick start's install lines: the sh block of `npm install` lines that follows its package.json.
    const manifestLine = files.find((block) => block.file === 'package.json')!.line;
    const installs = blocks.filter(
      (block) =>
        block.lang === 'sh' &&
        block.line > manifestLine &&
        block.code
          .trim()
          .split('\n')
          .every((line) => line.startsWith('npm install ')),
    );
    const runBlock = blocks.find((block) => block.lang === 'sh' && block.code.includes('node mesa-server.cjs'))!;
    let workspace: ConsumerWorkspace;
    let dir: string;
    let redis: RedisServer;
    let mesa: Proc | undefined;
    let api: Proc | undefined;
    const users: SignedInUser[] = [];
    let port: number;
    let mesaUrl: string;
    beforeAll(async () => {
      redis = await RedisServer.start();
      workspace = await ConsumerWorkspace.empty();
      dir = workspace.dir;
    });
    afterAll(async () => {
      users.forEach((user) => user.close());
      await api?.stop();
      await mesa?.stop();
      await redis?.stop();
      await workspace?.remove();
    });

    it("installs with the README's npm install lines (the packed tarball for nestjs-mesa) and builds with npm run build", async () => {
      expect(installs.map((block) => block.code.trim().split('\n').length)).toEqual([2]);
      await workspace.writeApp('.', { 'package.json': files.find((block) => block.file === 'package.json')!.code });
      for (const line of installs[0].code.trim().split('\n')) {
        const args = line.split(/\s+/).slice(1);
        expect(args).not.toContain('nestjs-mesa@');
        await workspace.npm(args.map((arg) => (arg === 'nestjs-mesa' ? `./${TARBALL}` : arg)));
      }
      await workspace.writeApp(
        '.',
        Object.fromEntries(files.filter((block) => block.file !== 'package.json').map((block) => [block.file!, block.code])),
      );
      await workspace.npm(['run', 'build']);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(manifest.scripts.start).toBe('node dist/main.js');
    }, 300_000);

    it('mesa-server.cjs refuses to start without MESA_TOKEN_SECRET, and says so', async () => {
      const environment = { ...process.env };
      delete environment.MESA_TOKEN_SECRET;
      const failure = await run(process.execPath, ['mesa-server.cjs'], {
        cwd: dir,
        env: { ...environment, MESA_PORT: String(await freePort()) },
        timeout: 10_000,
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );
      expect(failure.code).toBe(1);
      expect(failure.stderr).toMatch(/set MESA_TOKEN_SECRET/);
    }, 20_000);

    it('boots: the Mesa server and the API (npm start) start with the environment the README names', async () => {
      port = await freePort();
      const mesaPort = await freePort();
      const env = { REDIS_URL: redis.url, MESA_TOKEN_SECRET: SECRET, MESA_PORT: String(mesaPort), PORT: String(port) };
      mesa = new Proc(['mesa-server.cjs'], dir, env);
      api = new Proc(['dist/main.js'], dir, env);
      mesaUrl = `ws://127.0.0.1:${mesaPort}`;
      await eventually(
        async () => {
          if (api!.child.exitCode !== null || mesa!.child.exitCode !== null) throw new Error(`exited:\n${api!.output}\n${mesa!.output}`);
          return (await fetch(`http://127.0.0.1:${port}/none`).catch(() => undefined)) !== undefined;
        },
        30_000,
        'the API to listen',
      );
      users.push(await SignedInUser.signIn(mesaUrl, 'ada'));
    }, 60_000);

    it("the README's curl reaches ada live", async () => {
      const curl = runBlock.code.split('\n').find((line) => line.startsWith('curl '))!;
      expect(curl).toContain('localhost:3000/users/ada/notifications');
      const { stdout } = await run('bash', ['-c', curl.replace('localhost:3000', `127.0.0.1:${port}`)], { timeout: 10_000 });
      expect(JSON.parse(stdout)).toEqual({ recipients: ['ada'], publishedTo: ['ada'], storedFor: [], receivers: 1 });
      await eventually(() => users[0].of('NOTIFICATION').length === 1, 10_000, 'the notification');
      expect(users[0].of('NOTIFICATION')).toEqual([{ op: 0, d: { text: 'hi' }, t: 'NOTIFICATION', s: undefined }]);
    });

    it('a notification to an offline user is stored, not published: receivers 0 with the Mesa server running (the FAQ says so)', async () => {
      expect(await post(`http://127.0.0.1:${port}/users/cy/notifications`, { text: 'later' })).toEqual({
        status: 201,
        body: { recipients: ['cy'], publishedTo: [], storedFor: ['cy'], receivers: 0 },
      });
    });

    it('a body without author or text is answered 400, naming the field, and dispatches nothing', async () => {
      const baseUrl = `http://127.0.0.1:${port}`;
      expect(await post(`${baseUrl}/rooms/general/messages`, { text: 'no author' })).toEqual({
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message: '"author" must be a non-empty string' },
      });
      expect(await post(`${baseUrl}/users/ada/notifications`, { txt: 'typo' })).toEqual({
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message: '"text" must be a non-empty string' },
      });
      expect((await post(`${baseUrl}/rooms/general/messages`, { author: 7, text: 'x' })).status).toBe(400);
      expect(await post(`${baseUrl}/users/%20/notifications`, { text: 'to nobody' })).toEqual({
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message: '"id" must be a non-empty string' },
      });
    });

    it("@Dispatch on the room route reaches the room's other member, stored while offline and redelivered with s = 1", async () => {
      const answer = await post(`http://127.0.0.1:${port}/rooms/general/messages`, { author: 'ada', text: 'hello room' });
      expect(answer).toEqual({ status: 201, body: { room: 'general', author: 'ada', text: 'hello room' } });
      const bob = await SignedInUser.signIn(mesaUrl, 'bob');
      users.push(bob);
      await eventually(() => bob.of('NEW_MESSAGE').length === 1, 10_000, 'the stored room message');
      // Only this one: the refused posts above sent nothing.
      expect(bob.of('NEW_MESSAGE')).toEqual([{ op: 0, d: { room: 'general', author: 'ada', text: 'hello room' }, t: 'NEW_MESSAGE', s: 1 }]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(users[0].of('NEW_MESSAGE')).toEqual([]); // the author is excluded
      expect(users[0].of('NOTIFICATION')).toHaveLength(1);
    });
  });
});
