import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../support/free-port.js';
import { RedisServer } from '../../support/redis-server.js';
import { killProcess, poll, spawnRedisServer, tempDir } from './processes.js';

export const MASTER_NAME = 'mymaster';

/**
 * A Redis primary, one replica and three Sentinels (the same redis-server binary with `--sentinel`,
 * each with its own config file in a temporary directory) monitoring them with quorum 2 and a
 * 1-second down-after. With `password`, both data nodes `--requirepass` it (and `--masterauth`), and
 * the Sentinels authenticate to them with `sentinel auth-pass`.
 */
export class SentinelGroup {
  private constructor(
    readonly primary: RedisServer,
    readonly replica: RedisServer,
    readonly sentinelPorts: number[],
    private readonly sentinels: Array<{ child: ChildProcess; output: () => string }>,
    private readonly dir: { path: string; remove: () => void },
    readonly password?: string,
  ) {}

  /** What ioredis needs to reach the group through its Sentinels. */
  get sentinelAddresses(): Array<{ host: string; port: number }> {
    return this.sentinelPorts.map((port) => ({ host: '127.0.0.1', port }));
  }

  static async start(options: { password?: string } = {}): Promise<SentinelGroup> {
    const auth = options.password ? ['--requirepass', options.password, '--masterauth', options.password] : [];
    const dir = tempDir('sentinel');
    const started: { primary?: RedisServer; replica?: RedisServer; sentinels: Array<{ child: ChildProcess; output: () => string }> } = {
      sentinels: [],
    };
    try {
      started.primary = await RedisServer.start(auth);
      started.replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(started.primary.port), ...auth]);
      const ports: number[] = [];
      for (let i = 0; i < 3; i++) {
        const port = await freePort();
        const file = join(dir.path, `sentinel-${port}.conf`);
        writeFileSync(
          file,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${dir.path}`,
            `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${started.primary.port} 2`,
            `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
            `sentinel failover-timeout ${MASTER_NAME} 5000`,
            `sentinel parallel-syncs ${MASTER_NAME} 1`,
            ...(options.password ? [`sentinel auth-pass ${MASTER_NAME} ${options.password}`] : []),
            '',
          ].join('\n'),
        );
        ports.push(port);
        started.sentinels.push(spawnRedisServer([file, '--sentinel']));
      }
      const group = new SentinelGroup(started.primary, started.replica, ports, started.sentinels, dir, options.password);
      await group.waitUntilMonitoring();
      return group;
    } catch (error) {
      await Promise.all(started.sentinels.map((s) => killProcess(s.child)));
      await started.replica?.stop();
      await started.primary?.stop();
      dir.remove();
      throw error;
    }
  }

  /** A client of one Sentinel (for SENTINEL commands); the caller disconnects it. */
  sentinelClient(index = 0): Redis {
    return new Redis(this.sentinelPorts[index], '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  }

  /** Every Sentinel knows the replica and the two other Sentinels, and the replica is in sync. */
  private async waitUntilMonitoring(): Promise<void> {
    await poll(
      async () => {
        const replica = this.replica.client();
        try {
          return /master_link_status:up/.test(await replica.info('replication'));
        } finally {
          replica.disconnect();
        }
      },
      10_000,
      'the replica to sync with the primary',
    );
    for (let index = 0; index < this.sentinelPorts.length; index++) {
      const sentinel = this.sentinelClient(index);
      sentinel.on('error', () => undefined);
      try {
        await poll(
          async () => {
            const fields = (await sentinel.call('SENTINEL', 'MASTER', MASTER_NAME)) as string[];
            const master = Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : [])));
            return master['num-slaves'] === '1' && master['num-other-sentinels'] === '2' && !/down/.test(master.flags);
          },
          20_000,
          `sentinel ${this.sentinelPorts[index]} to see the replica and the other sentinels (output: ${this.sentinels[index].output()})`,
          100,
        );
      } finally {
        sentinel.disconnect();
      }
    }
  }

  /** The port of the primary the Sentinels currently report. */
  async reportedPrimaryPort(): Promise<number> {
    const sentinel = this.sentinelClient();
    sentinel.on('error', () => undefined);
    try {
      const [, port] = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
      return Number(port);
    } finally {
      sentinel.disconnect();
    }
  }

  /** Resolves once the Sentinels report the replica as the primary (fails after `timeoutMs`). */
  async waitForFailover(timeoutMs = 20_000): Promise<void> {
    await poll(async () => (await this.reportedPrimaryPort()) === this.replica.port, timeoutMs, 'the sentinels to promote the replica', 50);
  }

  async stop(): Promise<void> {
    await Promise.all(this.sentinels.map((s) => killProcess(s.child)));
    await this.replica.stop();
    await this.primary.stop();
    this.dir.remove();
  }
}
