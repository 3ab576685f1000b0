import { DiscoveryService, ExternalContextCreator, MetadataScanner } from '@nestjs/core';
import { MesaConfigurationError } from '../errors/mesa.errors.js';
import type { MesaPortalHandlerMetadata } from './portal.decorators.js';
import { MESA_PORTAL_ARGS_METADATA, MESA_PORTAL_CONTEXT_TYPE, MESA_PORTAL_HANDLER_METADATA } from '../mesa.constants.js';
import type { MesaPortalEventType } from './portal-protocol.js';
import { portalContextCreator } from './portal-exception-filters.js';

/** One discovered portal handler, ready to call through Nest's guards, interceptors, pipes and filters. */
export interface MesaPortalHandler {
  /** `Class.method`, for logs. */
  readonly name: string;
  readonly event: MesaPortalEventType;
  readonly messageType?: string;
  /** Calls the method with the event's argument (none for `connection`). */
  readonly invoke: (...args: unknown[]) => Promise<unknown>;
}

const EVENT_ARGUMENT_FACTORY = { exchangeKeyForValue: (_type: number, _data: unknown, args: unknown[]) => args[0] };

/**
 * Finds the `@OnMesa…` methods of the application's singleton providers and controllers (the
 * DiscoveryService pattern of @nestjs/event-emitter) and wraps each in Nest's external context (see
 * {@link portalContextCreator} for what happens to the exceptions no filter handles).
 */
export class MesaPortalExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly contextCreator: ExternalContextCreator,
  ) {}

  /**
   * Every portal handler of the application.
   * @throws MesaConfigurationError when a handler's class is request-scoped or transient.
   */
  explore(): MesaPortalHandler[] {
    const contextCreator = portalContextCreator(this.contextCreator);
    const handlers: MesaPortalHandler[] = [];
    const seen = new Set<unknown>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      if (wrapper.isAlias || seen.has(wrapper.instance)) continue;
      seen.add(wrapper.instance);
      const prototype = prototypeOf(wrapper.instance) ?? (wrapper.isNotMetatype ? undefined : wrapper.metatype?.prototype);
      if (!prototype || typeof prototype !== 'object') continue;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const registrations = this.registrationsOf(wrapper.instance?.[methodName] ?? prototype[methodName]);
        if (registrations.length === 0) continue;
        const name = `${wrapper.metatype?.name ?? wrapper.name?.toString()}.${methodName}`;
        if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
          throw new MesaConfigurationError(
            `@OnMesa… on ${name}: portal handlers must live in a singleton (default-scoped) provider or controller; ` +
              'this class is request-scoped or transient, or depends on one. Move the handler to a singleton class.',
          );
        }
        const instance = wrapper.instance as Record<string, (...args: unknown[]) => unknown>;
        if (!instance) continue;
        const invoke = contextCreator.create(
          instance,
          instance[methodName]!,
          methodName,
          MESA_PORTAL_ARGS_METADATA,
          EVENT_ARGUMENT_FACTORY,
          undefined,
          undefined,
          { guards: true, interceptors: true, filters: true },
          MESA_PORTAL_CONTEXT_TYPE,
        ) as (...args: unknown[]) => Promise<unknown>;
        for (const { event, messageType } of registrations) handlers.push({ name, event, messageType, invoke });
      }
    }
    return handlers;
  }

  private registrationsOf(method: unknown): MesaPortalHandlerMetadata[] {
    if (typeof method !== 'function') return [];
    return (Reflect.getMetadata(MESA_PORTAL_HANDLER_METADATA, method) as MesaPortalHandlerMetadata[] | undefined) ?? [];
  }
}

function prototypeOf(instance: unknown): object | undefined {
  return typeof instance === 'object' && instance !== null ? (Object.getPrototypeOf(instance) as object) : undefined;
}
