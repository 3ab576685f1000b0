import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MesaServerConfig } from './mesa-server.js';

/** How to start the replicas. */
export interface MesaReplicasOptions {
  ports: number[];
  host: string;
  redisUrl: string;
  namespace: string;
  /** HMAC key of the session tokens; handed to the children through their environment. */
  secret: string;
  heartbeatMs: number;
  /** Unauthenticated sockets are closed after this long. Default 10 s. */
  authTimeoutMs?: number;
  /** The compiled launcher (`mesa-server.js`); found next to this file or in `dist-sample/` by default. */
  launcher?: string;
  /** Where the children's log lines go. Default: this process's stderr. */
  log?: (line: string) => void;
}

const STOP_GRACE_MS = 3_000;
/** Children that said they listen (an exit after that is worth a log line). */
const READY = new WeakSet<ChildProcess>();

/**
 * Mesa server replicas, one child process each (sample/mesa/mesa-server.ts), sharing one Redis:
 * a message dispatched once through Redis reaches users on every replica.
 */
export class MesaReplicas {
  private constructor(
    /** The ports they listen on, in replica order. */
    readonly ports: number[],
    private readonly children: ChildProcess[],
    log: (line: string) => void,
  ) {
    children.forEach((child, index) =>
      child.on('exit', (code, signal) => {
        if (READY.has(child) && !this.stopping) log(`[mesa ${index + 1}] exited unexpectedly (${signal ?? code})`);
      }),
    );
  }

  private stopping = false;

  /**
   * Starts every replica and resolves once all listen.
   * @throws Error naming the replica and what it printed, when one fails to start (the others are stopped).
   */
  static async start(options: MesaReplicasOptions): Promise<MesaReplicas> {
    const launcher = options.launcher ?? defaultLauncher();
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const children: ChildProcess[] = [];
    const started = options.ports.map((port, index) => {
      const config: MesaServerConfig = {
        port,
        host: options.host,
        redisUrl: options.redisUrl,
        namespace: options.namespace,
        heartbeatMs: options.heartbeatMs,
        replica: index + 1,
        authTimeoutMs: options.authTimeoutMs ?? 10_000,
      };
      const child = spawn(process.execPath, [launcher], {
        // stdin is a pipe the child watches: if this process dies, the replica stops too.
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, SAMPLE_MESA_CONFIG: JSON.stringify(config), SAMPLE_TOKEN_SECRET: options.secret },
        detached: true, // own process group: Ctrl+C reaches the CLI, which stops replicas in order
      });
      children.push(child);
      return waitUntilReady(child, config, log);
    });
    const replicas = new MesaReplicas([...options.ports], children, log);
    const outcomes = await Promise.allSettled(started);
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure) {
      await replicas.stop();
      throw (failure as PromiseRejectedResult).reason;
    }
    return replicas;
  }

  /** `ws://host:port` of each replica. */
  urls(host: string): string[] {
    return this.ports.map((port) => `ws://${host}:${port}`);
  }

  /** Stops every replica (SIGTERM: sockets closed with 1001 and marked offline; SIGKILL after 3 s). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.children.map(stopChild));
  }
}

function defaultLauncher(): string {
  const candidates = ['./mesa-server.js', '../../dist-sample/mesa/mesa-server.js'].map((path) =>
    fileURLToPath(new URL(path, import.meta.url)),
  );
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(`The Mesa launcher is not built (looked for ${candidates.join(', ')}). Run: npx tsc -p sample/tsconfig.json`);
  }
  return found;
}

function waitUntilReady(child: ChildProcess, config: MesaServerConfig, log: (line: string) => void): Promise<void> {
  const said: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      said.push(line);
      log(line);
    }
  });
  return new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (!chunk.includes(`ready ${config.port}`)) return;
      READY.add(child);
      resolve();
    });
    child.once('exit', (code, signal) => {
      const why = said.slice(-5).join(' | ') || 'no output';
      reject(new Error(`Mesa replica ${config.replica} (port ${config.port}) exited (${signal ?? code}) before it was ready: ${why}`));
    });
    child.once('error', reject);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
