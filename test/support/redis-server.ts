import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

/** A private redis-server on a free port, started and killed by the test that owns it. */
export class RedisServer {
  private process?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  /** The `--requirepass` the server was started with, if any. */
  get password(): string | undefined {
    const index = this.extraArgs.indexOf('--requirepass');
    return index >= 0 ? this.extraArgs[index + 1] : undefined;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(extraArgs: string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), extraArgs);
    await server.restart();
    return server;
  }

  /** Starts (again) on the same port and waits until it answers PING. */
  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extraArgs];
    // A replica writes the RDB of its full sync to its working directory: keep it out of the repository.
    args.push('--dir', tmpdir(), '--dbfilename', this.dbFilename);
    this.process = spawn('redis-server', args, { stdio: 'ignore' });
    const probe = new Redis(this.port, '127.0.0.1', { password: this.password, retryStrategy: () => 20, maxRetriesPerRequest: null });
    probe.on('error', () => undefined);
    try {
      await probe.ping();
    } finally {
      probe.disconnect();
    }
  }

  /** Name of the RDB file a replica's full sync writes in the temporary directory (removed by {@link stop}). */
  private get dbFilename(): string {
    return `nestjs-mesa-test-${this.port}.rdb`;
  }

  /** A new client to inspect or prepare the server's data; the caller disconnects it. */
  client(): Redis {
    return new Redis(this.port, '127.0.0.1', { password: this.password });
  }

  /** How many clients named `name` are connected (nestjs-mesa names the connections it opens). */
  async connectionsNamed(name = 'nestjs-mesa'): Promise<number> {
    const db = this.client();
    try {
      return ((await db.client('LIST')) as string).split('\n').filter((line) => line.includes(`name=${name}`)).length;
    } finally {
      db.disconnect();
    }
  }

  /** The process id of the running server (for a tracer that needs it). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Freezes the server (SIGSTOP): its sockets stay open and nothing is answered, until {@link resume}. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  /** Lets a paused server run again (SIGCONT). */
  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** Kills the server (SIGKILL by default) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
    rmSync(join(tmpdir(), this.dbFilename), { force: true });
  }
}
