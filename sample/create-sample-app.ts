import 'reflect-metadata';
import { Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { fileURLToPath } from 'node:url';
import { MesaPortalService } from 'nestjs-mesa';
import { AppModule } from './app.module.js';
import { SampleConfig, type SampleConfigOverrides } from './config/sample-config.js';
import { MesaReplicas } from './mesa/mesa-replicas.js';
import { SampleMetrics } from './metrics/sample-metrics.js';

/** Options of {@link createSampleApp}: configuration overrides plus how to run. */
export interface SampleAppOptions extends SampleConfigOverrides {
  /** Path of the compiled Mesa launcher; found automatically by default. */
  mesaLauncher?: string;
  /** Nest log levels, or `false` for none. Default: Nest's. */
  logger?: LogLevel[] | false;
  /** Where the Mesa replicas' log lines go. Default: stderr. */
  mesaLog?: (line: string) => void;
}

/** A running sample: the Nest app on `url` and its Mesa replicas. */
export interface SampleApp {
  /** The configuration it runs with (ports, Redis, the token secret). */
  readonly config: SampleConfig;
  /** Address of the page, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** `ws://` address of each Mesa replica. */
  readonly mesaUrls: string[];
  readonly app: NestExpressApplication;
  /** Stops the HTTP server and the dispatcher, then the Mesa replicas, then the metrics SDK. Safe to call twice. */
  close(): Promise<void>;
}

/** Where the page's files are: `sample/public`, from the sources and from `dist-sample/` alike. */
export const PUBLIC_DIR = fileURLToPath(new URL('../sample/public/', import.meta.url));

/**
 * Boots the sample: the Nest app (config, `MesaModule`, chat, `/metrics`) and its Mesa server replicas in child
 * processes, all on the given Redis. Values not given come from the environment (see `SampleConfig`).
 * Redis must be reachable; `start.ts` finds or starts one first.
 */
export async function createSampleApp(options: SampleAppOptions = {}): Promise<SampleApp> {
  const { mesaLauncher, logger, mesaLog, ...overrides } = options;
  const config = SampleConfig.fromEnv(process.env, overrides);
  // Before the app is built: nestjs-mesa takes its instruments from the global meter provider when MesaModule's
  // services are constructed, and an instrument taken while no SDK is registered never records.
  const metrics = SampleMetrics.acquire();
  if (!metrics.global) {
    new Logger('SampleApp').warn(
      'Another OpenTelemetry MeterProvider was registered in this process first: nestjs-mesa records into that one, and /metrics shows none of it.',
    );
  }
  let app: NestExpressApplication | undefined;
  let replicas: MesaReplicas | undefined;
  try {
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config.values(), metrics), {
      logger: logger ?? undefined,
      abortOnError: false,
    });
    app.useStaticAssets(PUBLIC_DIR, { index: 'index.html', maxAge: 0 });
    await app.listen(config.port, config.host); // connects to Redis, then the portal joins the pool
    // A Mesa server reads the portal pool once, when it starts: with the portal in it first, every socket's
    // authentication and disconnection reaches PresencePortal from the first socket on.
    await portalJoined(app.get(MesaPortalService), 5_000);
    replicas = await MesaReplicas.start({
      ports: config.mesaPorts,
      host: config.host,
      redisUrl: config.redisUrl,
      namespace: config.namespace,
      secret: config.secret,
      heartbeatMs: config.heartbeatMs,
      launcher: mesaLauncher,
      log: mesaLog,
    });
  } catch (error) {
    await replicas?.stop();
    await app?.close().catch(() => undefined);
    await metrics.release();
    throw error;
  }
  const address = app.getHttpServer().address() as { port: number };
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  let closing: Promise<void> | undefined;
  return {
    config,
    url: `http://${host}:${address.port}`,
    mesaUrls: replicas.urls(host),
    app,
    close: () =>
      (closing ??= (async () => {
        await app!.close();
        await replicas!.stop();
        await metrics.release();
      })()),
  };
}

/** Resolves once the portal has joined the pool, or after `timeoutMs` with a warning (presence then also leans on Mesa's set). */
async function portalJoined(portal: MesaPortalService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!portal.joined) {
    if (Date.now() > deadline) {
      new Logger('SampleApp').warn(
        `The portal ${portal.id} has not joined the pool after ${timeoutMs} ms; starting the Mesa servers anyway.`,
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
