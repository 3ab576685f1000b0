import { readFileSync } from 'node:fs';
import { trace } from '@opentelemetry/api';
import {
  MesaConfigurationError,
  MesaDispatchError,
  MesaValidationError,
  MESA_PACKAGE_VERSION,
  MESA_TELEMETRY_SCOPE,
} from '../../../lib/index.js';
import { DispatchPromise } from '../../../lib/dispatch-promise.js';
import { resolveMesaOptions } from '../../../lib/options/resolved-mesa-options.js';
import { BatchTelemetry, errorTypeOf, redisErrorCode, trackDispatch } from '../../../lib/publishing/dispatch-telemetry.js';
import { MesaTelemetry, mesaTelemetryOf } from '../../../lib/telemetry/mesa-telemetry.js';
import { queueFill } from '../../../lib/telemetry/queue-load.js';
import { OtelSdk } from '../../telemetry/support/otel-sdk.js';

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
const options = (extra: object = {}) => resolveMesaOptions({ url: 'redis://127.0.0.1:6379', ...extra });

describe('MesaTelemetry', () => {
  it('names its scope nestjs-mesa with the version in package.json', () => {
    expect(MESA_TELEMETRY_SCOPE).toBe(packageJson.name);
    expect(MESA_PACKAGE_VERSION).toBe(packageJson.version);
  });

  it('validates the telemetry option, defaulting to true', () => {
    expect(options().telemetry).toBe(true);
    expect(options({ telemetry: false }).telemetry).toBe(false);
    expect(() => options({ telemetry: 'no' })).toThrow(MesaConfigurationError);
    expect(() => options({ telemetry: 'no' })).toThrow(/telemetry must be true or false/);
  });

  it('with no SDK registered, a dispatch is settled by its own promise: nothing is wrapped, no span is started', () => {
    const telemetry = new MesaTelemetry(options());
    expect(telemetry.enabled).toBe(true);
    expect(telemetry.metered).toBe(false);
    const promise = DispatchPromise.pending();
    expect(trace.getTracer('test').startActiveSpan('outer', (span) => (span.end(), trackDispatch(telemetry, promise)))).toBe(promise);
  });

  it('with telemetry: false and an SDK registered, nothing records', async () => {
    const sdk = OtelSdk.register();
    try {
      const telemetry = new MesaTelemetry(options({ telemetry: false }));
      expect([telemetry.enabled, telemetry.metered, telemetry.tracer]).toEqual([false, false, undefined]);
      const promise = DispatchPromise.pending();
      expect(trace.getTracer('test').startActiveSpan('outer', (span) => (span.end(), trackDispatch(telemetry, promise)))).toBe(promise);
      let ran = false;
      await new BatchTelemetry(telemetry).send([], async () => ((ran = true), []));
      expect(ran).toBe(true);
      expect(sdk.finished().map((span) => span.name)).toEqual(['outer']);
    } finally {
      await sdk.stop();
    }
  });

  it('is one per registration', () => {
    const resolved = options();
    expect(mesaTelemetryOf(resolved)).toBe(mesaTelemetryOf(resolved));
    expect(mesaTelemetryOf(resolved)).not.toBe(mesaTelemetryOf(options()));
  });

  it('classifies failures: not sent, may have been published, a Redis error code, a class name', () => {
    expect(errorTypeOf(new MesaDispatchError('x; the message was not sent.'))).toBe('not_sent');
    expect(errorTypeOf(new MesaDispatchError('x', { mayHaveBeenPublished: true }))).toBe('may_have_been_published');
    expect(errorTypeOf(new MesaValidationError('bad'))).toBe('MesaValidationError');
    expect(errorTypeOf(new Error('user 42 said hi'))).toBe('_OTHER');
    const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
    expect(redisErrorCode(reply("OOM command not allowed when used memory > 'maxmemory'."))).toBe('OOM');
    expect(redisErrorCode(reply("READONLY You can't write against a read only replica."))).toBe('READONLY');
    expect(redisErrorCode(reply('some free text'))).toBeUndefined();
    expect(redisErrorCode(new Error('OOM but not a reply'))).toBeUndefined();
  });

  it('reads the queue fill from the fuller of its two bounds', () => {
    const bounds = { maxQueuedDispatches: 100, maxQueuedBytes: 1000 };
    expect(queueFill({ queued: 10, queuedBytes: 900, unanswered: 0 }, bounds)).toBe(0.9);
    expect(queueFill({ queued: 50, queuedBytes: 10, unanswered: 3 }, bounds)).toBe(0.5);
    expect(queueFill({ queued: 0, queuedBytes: 5000, unanswered: 0 }, bounds)).toBe(1);
  });
});
