// `npm start`: the sample chat with its Mesa server(s), on a Redis found or started for the session.
// Environment: PORT (3000), MESA_PORT (4000), MESA_REPLICAS (1), REDIS_URL (redis://127.0.0.1:6379),
// HOST (127.0.0.1), SAMPLE_SECRET (random per run), MESA_HEARTBEAT_MS (10000), MESA_NAMESPACE.
import { NoRedisError, provideRedis, type LocalRedis } from './cli/local-redis.js';
import { SampleConfig, SampleConfigError } from './config/sample-config.js';
import { createSampleApp, type SampleApp } from './create-sample-app.js';

const say = (line = '') => process.stdout.write(`${line}\n`);

/** Runs the sample until SIGINT/SIGTERM, then stops the app, the Mesa replicas and a private Redis, in that order. */
async function main(): Promise<void> {
  const config = SampleConfig.fromEnv(process.env);
  const redis = await provideRedis(config.redisUrl, say);
  let sample: SampleApp;
  try {
    sample = await createSampleApp({ ...config.values(), redisUrl: redis.url, logger: ['error', 'warn'] });
  } catch (error) {
    await redis.stop();
    throw error;
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return process.exit(1); // a second Ctrl+C: do not wait any more
    stopping = true;
    say(
      `\n${signal}: stopping the app, the Mesa server${sample.mesaUrls.length > 1 ? 's' : ''}${redis.started ? ' and the private Redis' : ''}...`,
    );
    await sample.close();
    await redis.stop();
    say('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  printBanner(sample, redis, config.secretIsRandom);
}

function printBanner(sample: SampleApp, redis: LocalRedis, secretIsRandom: boolean): void {
  const { config } = sample;
  say();
  say('  nestjs-mesa sample chat');
  say(`  Open ${sample.url} (in two tabs, with two names, to chat with yourself: sessions are per tab)`);
  say();
  sample.mesaUrls.forEach((url, index) => say(`  Mesa replica ${index + 1}: ${url}`));
  say(`  Redis:          ${redis.url}${redis.started ? ' (private redis-server, stopped on exit)' : ''}`);
  say(`  Namespace:      ${config.namespace} (messages stored by an earlier run are dropped when their user signs in)`);
  say(
    `  Token secret:   ${secretIsRandom ? 'random for this run (set SAMPLE_SECRET to keep sessions across restarts)' : 'from SAMPLE_SECRET'}`,
  );
  if (sample.mesaUrls.length === 1) say('  Tip: MESA_REPLICAS=2 npm start runs two Mesa servers; users are spread across them.');
  say();
  say('  Press Ctrl+C to stop.');
}

main().catch((error: NodeJS.ErrnoException & { port?: number }) => {
  process.stderr.write(`\n${explain(error)}\n\n`);
  process.exit(1);
});

/** What went wrong, said for the person at the terminal (a stack only for the unexpected). */
function explain(error: NodeJS.ErrnoException & { port?: number }): string {
  if (error instanceof NoRedisError || error instanceof SampleConfigError) return error.message;
  if (error?.code === 'EADDRINUSE') return `Port ${error.port} is already in use: set PORT to a free one.`;
  if (/Mesa replica .*EADDRINUSE/.test(error?.message ?? '')) {
    return `${error.message}\nSet MESA_PORT to a free port (with MESA_REPLICAS=n, the n-1 ports after it must be free too).`;
  }
  return `The sample could not start: ${error?.stack ?? error}`;
}
