import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createSampleApp, type SampleApp, type SampleAppOptions } from '../../../sample/create-sample-app.js';
import { freePort } from '../../support/free-port.js';
import { RedisServer } from '../../support/redis-server.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The compiled Mesa launcher the in-process app spawns (built by {@link buildSample}). */
export const MESA_LAUNCHER = `${ROOT}dist-sample/mesa/mesa-server.js`;

/**
 * Compiles the sample with tsc into `dist-sample/` exactly as `npm start` does (minus the clean), so
 * the Mesa replicas, which run in child processes, have JavaScript to run, and type errors fail the
 * tests. Needs `dist/` (the library), which `npm test` builds first.
 */
export function buildSample(): void {
  execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}sample/tsconfig.json`], {
    cwd: ROOT,
    stdio: 'pipe',
  });
}

/** A private redis-server and the sample app on free ports, in this process. */
export interface SampleHarness {
  redis: RedisServer;
  sample: SampleApp;
  /** Base URL of the API and page. */
  url: string;
  stop(): Promise<void>;
}

/** The secret the test harness signs with (tests forge tokens with other ones). */
export const TEST_SECRET = 'test-secret-for-the-sample-0123456789';

/**
 * Starts a private Redis and the sample (two Mesa replicas by default) on free ports. Never touches
 * 127.0.0.1:6379.
 */
export async function startSample(options: SampleAppOptions & { replicas?: number } = {}): Promise<SampleHarness> {
  const { replicas = 2, ...rest } = options;
  const redis = await RedisServer.start();
  try {
    const mesaPorts: number[] = [];
    while (mesaPorts.length < replicas) mesaPorts.push(await freePort());
    const sample = await createSampleApp({
      host: '127.0.0.1',
      port: 0,
      mesaPorts,
      redisUrl: redis.url,
      secret: TEST_SECRET,
      heartbeatMs: 0,
      namespace: 'sample-test',
      mesaLauncher: MESA_LAUNCHER,
      logger: ['error'],
      mesaLog: () => undefined,
      ...rest,
    });
    return {
      redis,
      sample,
      url: sample.url,
      stop: async () => {
        await sample.close();
        await redis.stop();
      },
    };
  } catch (error) {
    await redis.stop();
    throw error;
  }
}

/** Resolves once `predicate` holds, polling every 25 ms; rejects with `what` after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
