export { MesaModule } from './mesa.module.js';
export type { MesaModuleForRootOptions, MesaModuleAsyncOptions } from './mesa.module-definition.js';
export { DispatcherService } from './dispatcher.service.js';
export { Dispatch } from './decorators/dispatch.decorator.js';
export { createTypedDispatch } from './decorators/typed-dispatch.decorator.js';
export type {
  DispatchSource,
  TypedDispatch,
  TypedDispatchOptions,
  TypedDispatchOptionsWithData,
  TypedMethodDecorator,
} from './decorators/typed-dispatch.decorator.js';
export { typedMessage } from './events/event-map.js';
export type {
  AnyEvents,
  AnyTypedMessage,
  DispatchableFor,
  EventMap,
  EventType,
  TypedMessage,
  TypedMessageArgs,
  TypedMessageFactory,
} from './events/event-map.js';
export { Message, DispatchEvent } from './messages/message.js';
export type { Dispatchable, MessageOptions, WireMessage } from './messages/message.js';
export type { DispatchResult } from './interfaces/dispatch-result.interface.js';
export type { BroadcastOptions } from './interfaces/broadcast-options.interface.js';
export type { DispatchDecoratorOptions, ResultSelector } from './interfaces/dispatch-options.interface.js';
export type {
  DispatchErrorMode,
  MesaModuleExtras,
  MesaModuleOptions,
  MesaSyncOptions,
  MesaIdempotencyOptions,
  MesaRetryOptions,
} from './interfaces/mesa-module-options.interface.js';
export { MesaConfigurationError, MesaConnectionError, MesaDispatchError, MesaError, MesaValidationError } from './errors/mesa.errors.js';
export { MesaRedisError } from './errors/mesa.errors.js';
export { MesaPresence, type MesaScanOptions } from './presence/mesa-presence.service.js';
export { MesaBacklog } from './backlog/mesa-backlog.service.js';
export { MesaBacklogSweeper, type SweepOutcome } from './backlog/backlog-sweeper.js';
export type { RedeliveredMessage } from './backlog/redelivered-message.interface.js';
export { MesaRedisConnection, type ConnectionSettings } from './redis/redis-connection.js';
export { mesaRedisNames, type MesaRedisNames } from './redis/mesa-redis-names.js';
export { DispatchPromise } from './dispatch-promise.js';
export { getMesaOptionsToken, getMesaRedisConnectionToken, getMesaResolvedOptionsToken } from './mesa.tokens.js';
export { getDispatcherToken, getMesaBacklogToken, getMesaPresenceToken } from './mesa.tokens.js';
export { InjectDispatcher, InjectMesaBacklog, InjectMesaPresence } from './decorators/inject-mesa.decorators.js';
export { DEFAULT_MESA_NAME } from './validation/mesa-name.validator.js';
export type { ResolvedMesaOptions, ResolvedPortalOptions } from './options/resolved-mesa-options.js';
export {
  BROADCAST,
  MESA_MODULE_OPTIONS,
  MESA_REDIS_CONNECTION,
  MESA_RESOLVED_OPTIONS,
  OPCODE_DISPATCH,
  OPCODE_INTERNAL_EVENT,
} from './mesa.constants.js';
export { MesaTestingModule, type MesaTestingModuleOptions } from './testing/mesa-testing.module.js';
export { RecordingDispatcher } from './testing/recording-dispatcher.js';
export type { ExpectedDispatch, RecordedDispatch, RecordingDispatcherOptions } from './testing/recorded-dispatch.interface.js';
export { MesaPresenceDouble } from './testing/mesa-presence.double.js';
export { MesaBacklogDouble } from './testing/mesa-backlog.double.js';
export * from './portal/index.js';
export {
  ERROR_MAY_HAVE_BEEN_PUBLISHED,
  ERROR_NOT_SENT,
  MESA_MESSAGING_SYSTEM,
  MESA_PACKAGE_VERSION,
  MESA_TELEMETRY_SCOPE,
  MesaMetricNames,
  MesaTelemetryAttributes,
} from './telemetry/telemetry-names.js';
