import { MesaConfigurationError } from '../errors/mesa.errors.js';
import type { MesaModuleOptions } from '../interfaces/mesa-module-options.interface.js';
import { describeValue } from '../errors/describe-value.js';
import { MAX_RETRY_ATTEMPTS } from '../mesa.constants.js';
import { validatePortalOptions } from './portal-options.validator.js';

const KNOWN_OPTIONS = [
  'url',
  'redis',
  'client',
  'sharedConnection',
  'namespace',
  'sync',
  'connectTimeout',
  'dispatchTimeout',
  'whenDisconnected',
  'maxPayloadBytes',
  'maxStoredPerUser',
  'maxStoredBytesPerUser',
  'maxUnansweredBatches',
  'maxUnansweredBytes',
  'maxQueuedDispatches',
  'maxQueuedBytes',
  'dispatchErrors',
  'idempotency',
  'retry',
  'telemetry',
  'portal',
];

/**
 * Checks `MesaModule` options at bootstrap. Values are never echoed (a URL may hold a password).
 * @throws MesaConfigurationError naming the option and the fix.
 */
export function validateMesaOptions(options: unknown): MesaModuleOptions {
  const fail = (message: string): never => {
    throw new MesaConfigurationError(`MesaModule: ${message}`);
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return fail(`options must be an object such as { url: 'redis://localhost:6379' }; got ${describeValue(options)}.`);
  }
  const given = options as Record<string, unknown>;
  if (given.name !== undefined) {
    fail(`name is not an option of the Mesa options themselves: give it beside useFactory, as forRootAsync({ name: 'chat', useFactory }).`);
  }
  const unknown = Object.keys(given).filter((key) => !KNOWN_OPTIONS.includes(key));
  if (unknown.length > 0) fail(`unknown option '${unknown[0]}'. Known options: ${KNOWN_OPTIONS.join(', ')}.`);

  const connections = ['url', 'redis', 'client'].filter((key) => given[key] !== undefined);
  if (connections.length === 0) {
    fail(`no Redis connection given: pass url ('redis://host:6379'), redis (ioredis options) or client (an ioredis instance).`);
  }
  if (connections.length > 1) fail(`give only one of url, redis and client; got ${connections.join(' and ')}.`);

  if (given.url !== undefined) checkUrl(given.url, 'url', fail);
  if (typeof given.redis === 'string') checkUrl(given.redis, 'redis', fail);
  else if (given.redis !== undefined && (typeof given.redis !== 'object' || given.redis === null)) {
    fail(
      `redis must be ioredis options (an object), a redis:// URL or ioredis constructor arguments (an array); got ${describeValue(given.redis)}.`,
    );
  }
  if (given.client !== undefined && !looksLikeIoredis(given.client)) {
    fail(`client must be an ioredis client (new Redis(...)); got ${describeValue(given.client)}.`);
  }
  if (given.sharedConnection !== undefined && typeof given.sharedConnection !== 'boolean') {
    fail(`sharedConnection must be true or false; got ${describeValue(given.sharedConnection)}.`);
  }
  if (given.namespace !== undefined && (typeof given.namespace !== 'string' || given.namespace.length === 0)) {
    fail(`namespace must be a non-empty string matching the Mesa servers' namespace; got ${describeValue(given.namespace)}.`);
  }
  if (given.sync !== undefined) checkSync(given.sync, fail);
  for (const name of ['connectTimeout', 'dispatchTimeout'] as const) {
    const timeout = given[name];
    if (timeout !== undefined && !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)) {
      fail(`${name} must be a positive number of milliseconds; got ${describeValue(timeout)}.`);
    }
  }
  if (given.whenDisconnected !== undefined && given.whenDisconnected !== 'queue' && given.whenDisconnected !== 'fail') {
    fail(`whenDisconnected must be 'queue' or 'fail'; got ${describeValue(given.whenDisconnected)}.`);
  }
  const limit = given.maxPayloadBytes;
  if (limit !== undefined && !(Number.isInteger(limit) && (limit as number) > 0)) {
    fail(`maxPayloadBytes must be a positive whole number of bytes; got ${describeValue(limit)}.`);
  }
  for (const name of ['maxStoredPerUser', 'maxStoredBytesPerUser'] as const) {
    const cap = given[name];
    if (cap !== undefined && !(cap === Infinity || (Number.isInteger(cap) && (cap as number) >= 0))) {
      fail(`${name} must be a whole number (0 or Infinity: no cap); got ${describeValue(cap)}.`);
    }
  }
  for (const name of ['maxUnansweredBatches', 'maxUnansweredBytes', 'maxQueuedDispatches', 'maxQueuedBytes'] as const) {
    const bound = given[name];
    if (bound !== undefined && !(Number.isInteger(bound) && (bound as number) > 0)) {
      fail(`${name} must be a positive whole number; got ${describeValue(bound)}.`);
    }
  }
  if (given.dispatchErrors !== undefined && given.dispatchErrors !== 'throw' && given.dispatchErrors !== 'log') {
    fail(`dispatchErrors must be 'throw' or 'log'; got ${describeValue(given.dispatchErrors)}.`);
  }
  if (given.idempotency !== undefined) checkIdempotency(given.idempotency, fail);
  if (given.retry !== undefined) checkRetry(given.retry, fail);
  if (given.telemetry !== undefined && typeof given.telemetry !== 'boolean') {
    fail(`telemetry must be true or false (false: no OpenTelemetry spans or metrics); got ${describeValue(given.telemetry)}.`);
  }
  validatePortalOptions(given.portal);
  return given as MesaModuleOptions;
}

function checkUrl(url: unknown, name: string, fail: (message: string) => never): void {
  if (typeof url !== 'string') fail(`${name} must be a string such as 'redis://localhost:6379'; got ${describeValue(url)}.`);
  let protocol: string;
  try {
    protocol = new URL(url as string).protocol;
  } catch {
    return fail(`${name} is not a valid URL; expected 'redis://[user:password@]host[:port][/db]' or 'rediss://…'.`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    fail(`${name} has the unknown scheme '${protocol}'; use redis:// (plain) or rediss:// (TLS).`);
  }
}

function checkSync(sync: unknown, fail: (message: string) => never): void {
  if (typeof sync !== 'object' || sync === null || Array.isArray(sync)) {
    fail(`sync must be an object such as { enabled: true }; got ${describeValue(sync)}.`);
  }
  const { enabled, ttl, sweepInterval, ...rest } = sync as Record<string, unknown>;
  if (typeof enabled !== 'boolean') fail(`sync.enabled must be true or false; got ${describeValue(enabled)}.`);
  for (const [name, value] of [
    ['ttl', ttl],
    ['sweepInterval', sweepInterval],
  ] as const) {
    if (value !== undefined && !(typeof value === 'number' && Number.isSafeInteger(value) && value > 0)) {
      fail(`sync.${name} must be a positive whole number of milliseconds; got ${describeValue(value)}.`);
    }
  }
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) fail(`unknown option 'sync.${extra}'. The sync options are enabled, ttl and sweepInterval.`);
}

function checkIdempotency(idempotency: unknown, fail: (message: string) => never): void {
  if (typeof idempotency !== 'object' || idempotency === null || Array.isArray(idempotency)) {
    fail(`idempotency must be an object such as { window: 300000 }; got ${describeValue(idempotency)}.`);
  }
  const { window, ...rest } = idempotency as Record<string, unknown>;
  if (window !== undefined && !(typeof window === 'number' && Number.isSafeInteger(window) && window > 0)) {
    fail(`idempotency.window must be a positive whole number of milliseconds, such as 300000 for 5 minutes; got ${describeValue(window)}.`);
  }
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) fail(`unknown option 'idempotency.${extra}'. The idempotency option is window.`);
}

function checkRetry(retry: unknown, fail: (message: string) => never): void {
  if (typeof retry !== 'object' || retry === null || Array.isArray(retry)) {
    fail(`retry must be an object such as { attempts: 3, delay: 100 }; got ${describeValue(retry)}.`);
  }
  const { attempts, delay, ...rest } = retry as Record<string, unknown>;
  if (!(typeof attempts === 'number' && Number.isInteger(attempts) && attempts >= 1 && attempts <= MAX_RETRY_ATTEMPTS)) {
    fail(
      `retry.attempts must be a whole number from 1 to ${MAX_RETRY_ATTEMPTS}: the tries in all, the first included (1: no retry); ` +
        `got ${describeValue(attempts)}.`,
    );
  }
  if (delay !== undefined && !(typeof delay === 'number' && Number.isSafeInteger(delay) && delay >= 0)) {
    fail(`retry.delay must be a whole number of milliseconds, 0 or more; got ${describeValue(delay)}.`);
  }
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) fail(`unknown option 'retry.${extra}'. The retry options are attempts and delay.`);
}

function looksLikeIoredis(client: unknown): boolean {
  const candidate = client as Record<string, unknown> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.publish === 'function' &&
    typeof candidate.evalsha === 'function' &&
    typeof candidate.status === 'string'
  );
}
