import type { Redis } from 'ioredis';

/**
 * Redis's clock in milliseconds, from a `TIME` reply (`[seconds, microseconds]`). Expiries, heartbeats and deadlines
 * the module writes to Redis count in this clock, never in the application's, so that instances whose clocks
 * disagree agree on them.
 */
export function redisTimeMs([seconds, micros]: ReadonlyArray<string | number>): number {
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** Reads Redis's clock, in milliseconds. */
export async function readRedisTimeMs(client: Redis): Promise<number> {
  return redisTimeMs(await client.time());
}

/** The same reading in Lua, for the scripts: `redis_time_ms()`. */
export const REDIS_TIME_LUA = `
local function redis_time_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`;
