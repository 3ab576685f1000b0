import { context, SpanKind, trace } from '@opentelemetry/api';
import type { MesaPortalHandler } from '../portal/portal-explorer.js';
import type { MesaPortalEvent } from '../portal/portal-protocol.js';
import { errorTypeOf } from '../publishing/dispatch-telemetry.js';
import { markFailed, type MesaTelemetry } from './mesa-telemetry.js';

/** What one handler run came to: undefined when it succeeded, its error when it failed (already logged). */
export type HandlerRun = { error: unknown } | undefined;

/**
 * Runs the handlers of one portal frame (`run`) inside a CONSUMER span `process <portal channel>`, active while they
 * run so that what they dispatch nests under it, and records `messaging.process.duration` and
 * `messaging.client.consumed.messages`. The frame's kind is an attribute; a client message's type only when one of
 * the handlers that runs declared it (`@OnMesaMessage('TYPING')`). A handler that failed makes the span ERROR, with
 * `error.type` its error's class. With nothing recording it is `run()` as it is.
 */
export async function processPortalFrame(
  telemetry: MesaTelemetry,
  event: MesaPortalEvent,
  handlers: readonly MesaPortalHandler[],
  run: () => Promise<HandlerRun[]>,
): Promise<void> {
  if (!telemetry.enabled) return void (await run());
  const attributes = telemetry.processAttributes(event.type, declaredType(event, handlers));
  const span = telemetry.tracer?.startSpan(telemetry.processName, { kind: SpanKind.CONSUMER, attributes });
  if (!span?.isRecording() && !telemetry.metered) return void (await run());
  const started = performance.now();
  let errorType: string | undefined;
  try {
    const runs = await (span ? context.with(trace.setSpan(context.active(), span), run) : run());
    const failed = runs.find((handled) => handled !== undefined);
    if (failed) errorType = handlerErrorType(failed.error);
  } catch (error) {
    errorType = handlerErrorType(error);
    throw error;
  } finally {
    telemetry.processed(attributes, (performance.now() - started) / 1000, errorType);
    if (span && errorType !== undefined) markFailed(span, errorType);
    span?.end();
  }
}

/** A client message's type when a handler that runs declared it; undefined otherwise (and for other events). */
function declaredType(event: MesaPortalEvent, handlers: readonly MesaPortalHandler[]): string | undefined {
  if (event.type !== 'message' || event.message.type === undefined) return undefined;
  const type = event.message.type;
  return handlers.some((handler) => handler.messageType === type) ? type : undefined;
}

/** A handler's error as `error.type`: a nestjs-mesa error's class, else the error's class name (`_OTHER` for a non-Error). */
function handlerErrorType(error: unknown): string {
  const type = errorTypeOf(error);
  if (type !== '_OTHER' || !(error instanceof Error)) return type;
  return error.constructor.name || type;
}
