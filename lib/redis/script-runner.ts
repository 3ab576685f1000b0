import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import type { MesaRedisConnection } from './redis-connection.js';

/** The line with which a script declares its flags to Redis 7 (a writing script: refused before it runs under OOM or on a replica). */
const FLAGS_LINE = '#!lua\n';

/**
 * The script as the server at hand reads it: Redis 7 and later (or an unknown version) take the `#!lua` flags line
 * the scripts start with; older servers do not know it, so it is left out there.
 */
export function scriptForServer(script: string, serverMajorVersion: number): string {
  return serverMajorVersion > 0 && serverMajorVersion < 7 && script.startsWith(FLAGS_LINE) ? script.slice(FLAGS_LINE.length) : script;
}

/**
 * Runs one Lua script by SHA (EVALSHA), and with EVAL when Redis lost its script cache (restart, failover,
 * SCRIPT FLUSH). Then every call already sent is answered NOSCRIPT too (Redis refused each before running it,
 * so sending it again is safe), and each is re-sent as its answer arrives; calls issued meanwhile wait until
 * all of those are re-sent, so call order holds across the reload.
 */
export class ScriptRunner {
  private readonly sha: string;
  private readonly client: Redis;
  private readonly script: string;
  /** Calls awaiting their reply, in the order they were sent. */
  private readonly awaitingReply = new Set<Promise<unknown>>();
  /** While calls answered NOSCRIPT are being re-sent: later calls wait, so none overtakes them. */
  private reloading?: { done: Promise<void>; release(): void };

  /** @param script the script as written (with its `#!lua` line), adapted to the connection's server version. */
  constructor(connection: Pick<MesaRedisConnection, 'client' | 'serverMajorVersion'>, script: string) {
    this.client = connection.client;
    this.script = scriptForServer(script, connection.serverMajorVersion);
    this.sha = createHash('sha1').update(this.script).digest('hex');
  }

  /** Runs the script with `keys` and `args` (passed as arrays: ioredis flattens them without spreading). */
  async run(keys: readonly string[], args: readonly string[]): Promise<unknown> {
    while (this.reloading) await this.reloading.done;
    const attempt = (this.client.evalsha as unknown as ScriptCall).call(this.client, this.sha, keys.length, keys, args);
    this.awaitingReply.add(attempt);
    try {
      return await attempt;
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      this.startReload();
      return await (this.client.eval as unknown as ScriptCall).call(this.client, this.script, keys.length, keys, args);
    } finally {
      this.awaitingReply.delete(attempt);
    }
  }

  /** The connection dropped: calls awaiting a reply will get none, so stop waiting for them. */
  connectionLost(): void {
    this.awaitingReply.clear();
    this.reloading?.release();
  }

  private startReload(): void {
    if (this.reloading) return;
    let release!: () => void;
    const reload = { done: new Promise<void>((resolve) => (release = resolve)), release: () => undefined };
    reload.release = () => {
      if (this.reloading === reload) this.reloading = undefined;
      release();
    };
    this.reloading = reload;
    void Promise.allSettled(this.awaitingReply).then(reload.release);
  }
}

/** EVAL/EVALSHA with keys and arguments as arrays, which ioredis flattens (never spread: a list may be huge). */
type ScriptCall = (this: Redis, script: string, numberOfKeys: number, keys: readonly string[], args: readonly string[]) => Promise<unknown>;
