import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from '../../support/mesa-app.js';

const CHILD = fileURLToPath(new URL('./portal-child.mjs', import.meta.url));

/** What `portal-child.mjs` is started with. */
export interface PortalChildConfig {
  redisUrl: string;
  id: string;
  heartbeatTtl?: number;
  /** More portal options. */
  portal?: Record<string, unknown>;
  /** How long a SLOW handler takes; absent: it never settles. */
  slowMs?: number;
}

/**
 * A Nest application with a portal in a child process (`portal-child.mjs`, the built library): what it printed
 * (handled SEQ numbers, warm senders, SLOW starts) and its log.
 */
export class PortalChild {
  readonly handled = new Set<number>();
  /** When (Date.now() in this process) each SEQ number was reported handled. */
  readonly handledAt = new Map<number, number>();
  readonly warm = new Set<string>();
  slowStarted = 0;
  /** Everything it printed (Nest writes warnings to stdout, errors to stderr). */
  output = '';
  joined = false;
  private constructor(readonly process: ChildProcess) {}

  /** Starts the child (with `nodeOptions` such as `--max-old-space-size=96`) and waits until it joined the pool. */
  static async start(config: PortalChildConfig, nodeOptions: string[] = []): Promise<PortalChild> {
    const child = new PortalChild(
      spawn(process.execPath, [...nodeOptions, CHILD, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    let buffer = '';
    child.process.stdout!.on('data', (chunk: Buffer) => {
      child.output += chunk.toString();
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const [word, value] = line.split(' ');
        if (word === 'joined') child.joined = true;
        if (word === 'handled') {
          child.handled.add(Number(value));
          child.handledAt.set(Number(value), Date.now());
        }
        if (word === 'warm') child.warm.add(value!);
        if (word === 'slow') child.slowStarted++;
      }
    });
    child.process.stderr!.on('data', (chunk: Buffer) => (child.output += chunk.toString()));
    await eventually(() => child.joined || child.exited, 20_000, 'the child portal joined');
    if (!child.joined) throw new Error(`child exited with ${child.process.exitCode}: ${child.output}`);
    return child;
  }

  /** Whether the process has exited (by itself or by a signal). */
  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /** Sends `signal` (SIGKILL by default) and, unless it is SIGSTOP or SIGCONT, waits for the exit. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return new Promise((resolve) => {
      if (this.exited) return resolve();
      if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
        this.process.kill(signal);
        return resolve();
      }
      this.process.once('exit', () => resolve());
      this.process.kill(signal);
    });
  }
}
