import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

const require = createRequire(import.meta.url);
const SERVER_SCRIPT = fileURLToPath(new URL('./mesa-server.cjs', import.meta.url));

/** Options of the Mesa replicas a test starts. */
export interface MesaClusterOptions {
  redisUrl: string;
  replicas?: number;
  namespace?: string;
  sync?: boolean;
  /** Start the replicas with Mesa's `portal: { enabled: true }` (client events published to a portal). */
  portal?: boolean;
}

/** Real Mesa server replicas (`@cryb/mesa`), each in its own process, sharing one Redis. */
export class MesaCluster {
  private constructor(
    readonly ports: number[],
    private readonly processes: ChildProcess[],
  ) {}

  /** WebSocket URL of replica `index`. */
  url(index = 0): string {
    return `ws://127.0.0.1:${this.ports[index % this.ports.length]}`;
  }

  static async start(options: MesaClusterOptions): Promise<MesaCluster> {
    require.resolve('@cryb/mesa');
    const ports: number[] = [];
    const processes: ChildProcess[] = [];
    for (let i = 0; i < (options.replicas ?? 2); i++) {
      const port = await freePort();
      const config = { port, redis: options.redisUrl, namespace: options.namespace, sync: options.sync, portal: options.portal };
      const child = spawn(process.execPath, [SERVER_SCRIPT, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`Mesa replica on ${port} exited with ${code}`)));
      });
      ports.push(port);
      processes.push(child);
    }
    return new MesaCluster(ports, processes);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.processes.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  }
}
