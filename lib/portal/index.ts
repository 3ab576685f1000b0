import type { Provider } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, ExternalContextCreator, HttpAdapterHost, MetadataScanner } from '@nestjs/core';
import { MESA_REDIS_CONNECTION, MESA_RESOLVED_OPTIONS } from '../mesa.constants.js';
import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import type { MesaRedisConnection } from '../redis/redis-connection.js';
import { MesaPortalExplorer } from './portal-explorer.js';
import { MesaPortalService } from './portal.service.js';

export {
  OnMesaAuthentication,
  OnMesaConnection,
  OnMesaDisconnection,
  OnMesaMessage,
  type MesaPortalHandlerMetadata,
} from './portal.decorators.js';
export type { MesaPortalOptions } from '../interfaces/mesa-portal-options.interface.js';
export type { MesaClientMessage, MesaPortalEvent, MesaPortalEventType } from './portal-protocol.js';
export { validatePortalOptions } from '../validation/portal-options.validator.js';
export { MesaPortalService } from './portal.service.js';
export type { MesaPortalStatus } from './mesa-portal-status.interface.js';
export { MESA_PORTAL_CONTEXT_TYPE, MESA_PORTAL_HANDLER_METADATA } from '../mesa.constants.js';

/**
 * Providers of the portal, for `MesaModule`'s `providers` (they do nothing unless `portal.enabled`), built by
 * factories like every part of the module.
 */
export const MESA_PORTAL_PROVIDERS: Provider[] = [
  {
    provide: MesaPortalExplorer,
    inject: [DiscoveryService, MetadataScanner, ExternalContextCreator],
    useFactory: (discovery: DiscoveryService, scanner: MetadataScanner, contexts: ExternalContextCreator) =>
      new MesaPortalExplorer(discovery, scanner, contexts),
  },
  {
    provide: MesaPortalService,
    inject: [MESA_RESOLVED_OPTIONS, MESA_REDIS_CONNECTION, MesaPortalExplorer, HttpAdapterHost],
    useFactory: (
      options: ResolvedMesaOptions,
      connection: MesaRedisConnection,
      explorer: MesaPortalExplorer,
      adapterHost: HttpAdapterHost,
    ) => new MesaPortalService(options, connection, explorer, adapterHost),
  },
];

/** Modules the portal providers need, for `MesaModule`'s `imports`. */
export const MESA_PORTAL_IMPORTS = [DiscoveryModule];
