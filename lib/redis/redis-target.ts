import type { RedisOptions } from 'ioredis';
import type { MesaModuleOptions } from '../interfaces/mesa-module-options.interface.js';

/**
 * Where a connection goes, for logs and errors: scheme, host and port, db, or the sentinels.
 * Never the username or password.
 */
export function describeRedisTarget(options: Pick<MesaModuleOptions, 'url' | 'redis' | 'client'>): string {
  if (options.client) return `${describeOptions(options.client.options)} (application-owned client)`;
  if (typeof options.url === 'string') return describeUrl(options.url);
  if (typeof options.redis === 'string') return describeUrl(options.redis);
  if (Array.isArray(options.redis)) return describeArgs(options.redis);
  return describeOptions((options.redis ?? {}) as RedisOptions);
}

function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const db = parsed.pathname.length > 1 ? parsed.pathname : '';
    return `${parsed.protocol}//${parsed.hostname || 'localhost'}:${parsed.port || 6379}${db}`;
  } catch {
    return 'an unparsable URL';
  }
}

function describeArgs(args: readonly unknown[]): string {
  const [first, second, third] = args;
  if (typeof first === 'string' && !/^\d+$/.test(first)) return describeUrl(first);
  const options = [second, third].find((arg) => typeof arg === 'object' && arg !== null) as RedisOptions | undefined;
  return describeOptions({
    ...options,
    port: Number(first ?? options?.port ?? 6379),
    host: typeof second === 'string' ? second : options?.host,
  });
}

function describeOptions(options: RedisOptions): string {
  if (options.sentinels?.length) {
    const sentinels = options.sentinels.map((s) => `${s.host ?? 'localhost'}:${s.port ?? 26379}`).join(', ');
    return `sentinel master "${options.name ?? 'mymaster'}" via ${sentinels}`;
  }
  if (options.path) return `unix socket ${options.path}`;
  const scheme = options.tls ? 'rediss' : 'redis';
  const db = options.db ? `/${options.db}` : '';
  return `${scheme}://${options.host ?? 'localhost'}:${options.port ?? 6379}${db}`;
}

/** Removes every secret the options hold from a text (an error message from ioredis or Redis). */
export function redactSecrets(text: string, options: Pick<MesaModuleOptions, 'url' | 'redis' | 'client'>): string {
  const secrets = new Set<string>();
  const addFromUrl = (url: unknown) => {
    if (typeof url !== 'string') return;
    try {
      const { password } = new URL(url);
      if (password) [password, decodeURIComponent(password)].forEach((s) => secrets.add(s));
    } catch {
      /* not a URL: nothing to collect */
    }
  };
  addFromUrl(options.url);
  addFromUrl(options.redis);
  if (Array.isArray(options.redis))
    options.redis.forEach((arg) => (typeof arg === 'object' ? collect(arg as RedisOptions) : addFromUrl(arg)));
  else if (typeof options.redis === 'object') collect(options.redis as RedisOptions);
  if (options.client) collect(options.client.options);
  function collect(redis: RedisOptions | null | undefined) {
    for (const secret of [redis?.password, redis?.sentinelPassword]) if (secret) secrets.add(String(secret));
  }
  let redacted = text;
  for (const secret of secrets) redacted = redacted.split(secret).join('***');
  return redacted;
}
