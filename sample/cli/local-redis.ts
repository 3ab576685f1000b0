import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';

/** The Redis the sample runs on: one that already answered, or a private `redis-server` it started. */
export interface LocalRedis {
  url: string;
  /** Whether it was started for this session (and is stopped by {@link LocalRedis.stop}). */
  started: boolean;
  stop(): Promise<void>;
}

/** No Redis answers at the URL and none can be started here; the message says how to get one. */
export class NoRedisError extends Error {
  override readonly name = 'NoRedisError';
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Returns the Redis at `url` if it answers PING. Otherwise, when `url` is on this machine and
 * `redis-server` is on the PATH, starts a private one there (no persistence, bound to 127.0.0.1)
 * that {@link LocalRedis.stop} stops.
 * @throws NoRedisError when neither works (or Redis answers but refuses us, e.g. a password is needed).
 */
export async function provideRedis(url: string, log: (line: string) => void = () => undefined): Promise<LocalRedis> {
  const answer = await probe(url);
  if (answer === 'pong') return { url, started: false, stop: async () => undefined };
  if (answer !== 'refused') throw new NoRedisError(`Redis at ${redact(url)} answered but refused us: ${answer}. Check REDIS_URL.`);
  const target = new URL(url);
  const port = Number(target.port || 6379);
  if (!LOCAL_HOSTS.has(target.hostname)) throw new NoRedisError(`Nothing answers at ${redact(url)}.\n${HOW_TO_GET_REDIS}`);
  const binary = findOnPath('redis-server');
  if (!binary) throw new NoRedisError(`Nothing answers at ${redact(url)} and redis-server is not on the PATH.\n${HOW_TO_GET_REDIS}`);
  log(`Nothing answers at ${redact(url)}: starting a private redis-server on 127.0.0.1:${port} for this session.`);
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir()], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true, // own process group: Ctrl+C reaches the CLI, which stops Redis last
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code) => resolve(`redis-server exited with ${code}`)));
  const privateUrl = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    const outcome = await Promise.race([exited, probe(privateUrl)]);
    if (outcome === 'pong') return { url: privateUrl, started: true, stop: () => stopChild(child) };
    if (outcome.startsWith('redis-server exited')) throw new NoRedisError(`${outcome}; is port ${port} taken?`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopChild(child);
  throw new NoRedisError(`The private redis-server on port ${port} did not answer within 5 s.`);
}

/** What to tell someone who has no Redis. */
export const HOW_TO_GET_REDIS = [
  'The sample needs Redis (Mesa servers and the Nest app meet there). Either:',
  '  - install redis-server (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)',
  '    and run npm start again: with nothing on REDIS_URL it starts a private one for the session; or',
  '  - run one yourself (docker run --rm -p 6379:6379 redis:7) or point REDIS_URL at one.',
].join('\n');

/** 'pong', 'refused' (nothing listens), or the error Redis answered with. */
async function probe(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1_500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG' ? 'pong' : 'unexpected PING reply';
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    return /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|Connection is closed|connect ETIMEDOUT/.test(message) ? 'refused' : message;
  } finally {
    client.disconnect();
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
