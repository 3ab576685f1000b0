import { MesaConfigurationError } from '../errors/mesa.errors.js';
import type { DispatchDecoratorOptions } from '../interfaces/dispatch-options.interface.js';
import { describeValue } from '../errors/describe-value.js';
import { checkMesaName } from './mesa-name.validator.js';

const KNOWN_OPTIONS = ['recipients', 'excluding', 'data', 'broadcast', 'sync', 'ttl', 'idempotencyKey', 'onError'];

/** Options that choose which `MesaModule` registration dispatches. */
const ROUTING_OPTIONS = ['dispatcher'];

/**
 * Checks `@Dispatch(type, options)` when the class is defined, so a mistake fails at start-up,
 * not at the first call. @throws MesaConfigurationError naming the method, the option and the fix.
 */
export function validateDispatchDecorator(type: unknown, options: unknown, where: string): void {
  const fail = (message: string): never => {
    throw new MesaConfigurationError(`@Dispatch on ${where}: ${message}`);
  };
  if (typeof type !== 'string' || type.length === 0) {
    fail(`the message type must be a non-empty string such as 'NEW_MESSAGE'; got ${describeValue(type)}.`);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail(`options must be an object; got ${describeValue(options)}.`);
  }
  const given = options as DispatchDecoratorOptions & Record<string, unknown>;
  const unknown = Object.keys(given).find((key) => !KNOWN_OPTIONS.includes(key) && !ROUTING_OPTIONS.includes(key));
  if (unknown) fail(`unknown option '${unknown}'. Known options: ${[...KNOWN_OPTIONS, ...ROUTING_OPTIONS].join(', ')}.`);
  if (given.dispatcher !== undefined) checkMesaName(given.dispatcher, `@Dispatch on ${where}: dispatcher`);
  for (const name of ['recipients', 'excluding', 'data', 'idempotencyKey'] as const) {
    if (given[name] !== undefined && typeof given[name] !== 'function') {
      fail(`${name} must be a function of (result, ...args); got ${describeValue(given[name])}.`);
    }
  }
  if (given.broadcast !== undefined && typeof given.broadcast !== 'boolean') {
    fail(`broadcast must be true or false; got ${describeValue(given.broadcast)}.`);
  }
  if (given.broadcast && (given.recipients || given.excluding)) {
    fail(`broadcast: true sends to every socket; it cannot be combined with recipients or excluding.`);
  }
  if (!given.broadcast && !given.recipients) {
    fail(`say who receives the message: recipients: (result, ...args) => ids, or broadcast: true.`);
  }
  if (given.sync !== undefined && typeof given.sync !== 'boolean') {
    fail(`sync must be true or false; got ${describeValue(given.sync)}.`);
  }
  if (given.ttl !== undefined && !(typeof given.ttl === 'number' && Number.isSafeInteger(given.ttl) && given.ttl > 0)) {
    fail(`ttl must be a positive whole number of milliseconds, such as 86400000 for a day; got ${describeValue(given.ttl)}.`);
  }
  if (given.onError !== undefined && given.onError !== 'throw' && given.onError !== 'log') {
    fail(`onError must be 'throw' or 'log'; got ${describeValue(given.onError)}.`);
  }
}
