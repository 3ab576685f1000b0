import { MesaConfigurationError } from '../errors/mesa.errors.js';
import { describeValue } from '../errors/describe-value.js';
import { MAX_PORTAL_ID_LENGTH, MESA_PORTAL_DEFAULTS, MIN_PORTAL_HEARTBEAT_TTL } from '../mesa.constants.js';

const KNOWN_PORTAL_OPTIONS = [
  'enabled',
  'id',
  'reportAllEvents',
  'concurrency',
  'maxQueued',
  'maxQueuedBytes',
  'maxClientShare',
  'handlerTimeout',
  'heartbeatTtl',
  'leaveGrace',
  'drainTimeout',
  'maxFrameBytes',
];

const WHOLE_NUMBERS: ReadonlyArray<[name: string, min: number, unit: string]> = [
  ['concurrency', 1, 'handlers'],
  ['maxQueued', 0, 'events'],
  ['maxQueuedBytes', 1, 'bytes'],
  ['handlerTimeout', 1, 'milliseconds'],
  ['heartbeatTtl', MIN_PORTAL_HEARTBEAT_TTL, 'milliseconds'],
  ['leaveGrace', 0, 'milliseconds'],
  ['drainTimeout', 0, 'milliseconds'],
  ['maxFrameBytes', 1, 'bytes'],
];

/**
 * Checks the `portal` option of `MesaModule` (absent is valid: no portal).
 * @param value the `portal` option as given
 * @param where prefix of the error message (default `MesaModule`)
 * @throws MesaConfigurationError naming the option and the fix.
 */
export function validatePortalOptions(value: unknown, where = 'MesaModule'): void {
  if (value === undefined) return;
  const fail = (message: string): never => {
    throw new MesaConfigurationError(`${where}: ${message}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`portal must be an object such as { enabled: true }; got ${describeValue(value)}.`);
  }
  const given = value as Record<string, unknown>;
  const unknown = Object.keys(given).find((key) => !KNOWN_PORTAL_OPTIONS.includes(key));
  if (unknown !== undefined) fail(`unknown option 'portal.${unknown}'. Known portal options: ${KNOWN_PORTAL_OPTIONS.join(', ')}.`);
  if (typeof given.enabled !== 'boolean') fail(`portal.enabled must be true or false; got ${describeValue(given.enabled)}.`);
  if (given.id !== undefined) checkId(given.id, fail);
  if (given.reportAllEvents !== undefined && typeof given.reportAllEvents !== 'boolean') {
    fail(`portal.reportAllEvents must be true or false; got ${describeValue(given.reportAllEvents)}.`);
  }
  for (const [name, min, unit] of WHOLE_NUMBERS) {
    const number = given[name];
    if (number !== undefined && !(Number.isSafeInteger(number) && (number as number) >= min)) {
      fail(`portal.${name} must be a whole number of ${unit}, at least ${min}; got ${describeValue(number)}.`);
    }
  }
  const share = given.maxClientShare;
  if (share !== undefined && !(typeof share === 'number' && share > 0 && share <= 1)) {
    fail(`portal.maxClientShare must be a number above 0 and at most 1 (1: no per-client bound); got ${describeValue(share)}.`);
  }
  const frameBytes = (given.maxFrameBytes as number | undefined) ?? MESA_PORTAL_DEFAULTS.maxFrameBytes;
  const queuedBytes = (given.maxQueuedBytes as number | undefined) ?? MESA_PORTAL_DEFAULTS.maxQueuedBytes;
  if (queuedBytes < frameBytes) {
    fail(
      `portal.maxQueuedBytes (${queuedBytes}) must be at least portal.maxFrameBytes (${frameBytes}), or no frame of that size ` +
        'could ever be handled. Raise maxQueuedBytes or lower maxFrameBytes.',
    );
  }
}

function checkId(id: unknown, fail: (message: string) => never): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_PORTAL_ID_LENGTH) {
    fail(`portal.id must be a string of 1 to ${MAX_PORTAL_ID_LENGTH} characters (e.g. the pod name); got ${describeValue(id)}.`);
  }
  if (!/^[\x21-\x7e]+$/.test(id as string)) {
    fail(`portal.id must be printable ASCII without spaces (letters, digits, '-', '_', '.', ':'); got ${describeValue(id)}.`);
  }
}
