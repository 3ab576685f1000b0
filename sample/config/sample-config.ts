import { type DynamicModule, Module } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { MesaModuleOptions } from 'nestjs-mesa';

/** The values of {@link SampleConfig} that a caller (a test, the CLI) may set instead of the environment. */
export interface SampleConfigValues {
  /** Interface the HTTP server and the Mesa replicas listen on. Env `HOST`, default `127.0.0.1`. */
  host: string;
  /** HTTP port of the Nest app (0: any free port). Env `PORT`, default 3000. */
  port: number;
  /** One port per Mesa replica. Env `MESA_PORT` (default 4000) and `MESA_REPLICAS` (default 1): consecutive ports. */
  mesaPorts: number[];
  /** Redis shared by the app and the Mesa servers. Env `REDIS_URL`, default `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** Mesa namespace (Redis names get `_<namespace>`). Env `MESA_NAMESPACE`, default `nestjs-mesa-sample`. */
  namespace: string;
  /** HMAC key of the session tokens. Env `SAMPLE_SECRET` (16+ characters); random for each run when unset. */
  secret: string;
  /** Mesa heartbeat interval in ms; 0 turns heartbeats off. Env `MESA_HEARTBEAT_MS`, default 10000. */
  heartbeatMs: number;
  /** Lifetime of a session token, in seconds. Env `SESSION_TTL_SECONDS`, default 12 hours. */
  sessionTtlSeconds: number;
}

/** Any subset of {@link SampleConfigValues}; what is left out comes from the environment or the defaults. */
export type SampleConfigOverrides = Partial<SampleConfigValues>;

/** A configuration value that cannot be used; the message names the variable and what it accepts. */
export class SampleConfigError extends Error {
  override readonly name = 'SampleConfigError';
}

const DEFAULTS = {
  HOST: '127.0.0.1',
  PORT: 3000,
  MESA_PORT: 4000,
  MESA_REPLICAS: 1,
  REDIS_URL: 'redis://127.0.0.1:6379',
  MESA_NAMESPACE: 'nestjs-mesa-sample',
  MESA_HEARTBEAT_MS: 10_000,
  SESSION_TTL_SECONDS: 12 * 60 * 60,
};

/**
 * The sample's configuration, read once from environment variables (with overrides for tests and the
 * CLI). It is the Nest provider `MesaModule.forRootAsync` gets its options from, as a real app's
 * configuration service would be.
 */
export class SampleConfig implements SampleConfigValues {
  readonly host!: string;
  readonly port!: number;
  readonly mesaPorts!: number[];
  readonly redisUrl!: string;
  readonly namespace!: string;
  readonly secret!: string;
  readonly heartbeatMs!: number;
  readonly sessionTtlSeconds!: number;
  /** Whether the secret was generated for this run (sessions then end with the process). */
  readonly secretIsRandom: boolean;

  private constructor(values: SampleConfigValues, secretIsRandom: boolean) {
    Object.assign(this, values);
    this.secretIsRandom = secretIsRandom;
  }

  /**
   * Reads the configuration from `env`, letting `overrides` win over it.
   * @throws SampleConfigError for a value that is not usable (bad port, short secret, ...).
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, overrides: SampleConfigOverrides = {}): SampleConfig {
    const mesaPorts = overrides.mesaPorts ?? consecutivePorts(env);
    mesaPorts.forEach((port) => checkPort(port, 'MESA_PORT', false));
    if (mesaPorts.length === 0) throw new SampleConfigError('At least one Mesa port is needed.');
    const configuredSecret = overrides.secret ?? nonEmpty(env.SAMPLE_SECRET);
    if (configuredSecret !== undefined && configuredSecret.length < 16) {
      throw new SampleConfigError('SAMPLE_SECRET must be at least 16 characters long (or unset for a random one).');
    }
    const redisUrl = overrides.redisUrl ?? nonEmpty(env.REDIS_URL) ?? DEFAULTS.REDIS_URL;
    if (!/^rediss?:\/\//.test(redisUrl)) {
      throw new SampleConfigError(`REDIS_URL must start with redis:// or rediss://; got "${redisUrl}".`);
    }
    const values: SampleConfigValues = {
      host: overrides.host ?? nonEmpty(env.HOST) ?? DEFAULTS.HOST,
      port: checkPort(overrides.port ?? integer(env, 'PORT', DEFAULTS.PORT), 'PORT', true),
      mesaPorts: [...mesaPorts],
      redisUrl,
      namespace: overrides.namespace ?? nonEmpty(env.MESA_NAMESPACE) ?? DEFAULTS.MESA_NAMESPACE,
      secret: configuredSecret ?? randomBytes(32).toString('base64url'),
      heartbeatMs: overrides.heartbeatMs ?? integer(env, 'MESA_HEARTBEAT_MS', DEFAULTS.MESA_HEARTBEAT_MS),
      sessionTtlSeconds: overrides.sessionTtlSeconds ?? integer(env, 'SESSION_TTL_SECONDS', DEFAULTS.SESSION_TTL_SECONDS),
    };
    if (values.heartbeatMs < 0) throw new SampleConfigError('MESA_HEARTBEAT_MS must be 0 (off) or a positive number of ms.');
    if (values.sessionTtlSeconds < 1) throw new SampleConfigError('SESSION_TTL_SECONDS must be positive.');
    return new SampleConfig(values, configuredSecret === undefined);
  }

  /** What `MesaModule.forRootAsync` is given: this Redis, this namespace, and sync on, like the servers. */
  mesaModuleOptions(): MesaModuleOptions {
    return { url: this.redisUrl, namespace: this.namespace, sync: { enabled: true }, connectTimeout: 5_000 };
  }

  /** The values, for handing to another process or another `fromEnv` as overrides. */
  values(): SampleConfigValues {
    const { host, port, mesaPorts, redisUrl, namespace, secret, heartbeatMs, sessionTtlSeconds } = this;
    return { host, port, mesaPorts, redisUrl, namespace, secret, heartbeatMs, sessionTtlSeconds };
  }
}

/**
 * Provides {@link SampleConfig} to the whole app (global), read from the environment when the module
 * is built, with `overrides` winning. Other modules inject it by class:
 *
 * ```ts
 * MesaModule.forRootAsync({ inject: [SampleConfig], useFactory: (config: SampleConfig) => config.mesaModuleOptions() })
 * ```
 */
@Module({})
export class SampleConfigModule {
  /** @param overrides values that win over the environment (the CLI and tests pass a resolved config). */
  static forRoot(overrides: SampleConfigOverrides = {}): DynamicModule {
    return {
      module: SampleConfigModule,
      global: true,
      providers: [{ provide: SampleConfig, useFactory: () => SampleConfig.fromEnv(process.env, overrides) }],
      exports: [SampleConfig],
    };
  }
}

function consecutivePorts(env: NodeJS.ProcessEnv): number[] {
  const first = integer(env, 'MESA_PORT', DEFAULTS.MESA_PORT);
  const replicas = integer(env, 'MESA_REPLICAS', DEFAULTS.MESA_REPLICAS);
  if (replicas < 1 || replicas > 8) throw new SampleConfigError(`MESA_REPLICAS must be between 1 and 8; got ${replicas}.`);
  return Array.from({ length: replicas }, (_, index) => first + index);
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new SampleConfigError(`${name} must be a whole number; got "${raw}".`);
  return Number(raw);
}

function checkPort(port: number, name: string, zeroAllowed: boolean): number {
  if (!Number.isInteger(port) || port < (zeroAllowed ? 0 : 1) || port > 65_535) {
    throw new SampleConfigError(`${name} must be a TCP port (${zeroAllowed ? 0 : 1}-65535); got ${port}.`);
  }
  return port;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
