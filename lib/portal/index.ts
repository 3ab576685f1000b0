import type { Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
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

/** Providers of the portal, for `MesaModule`'s `providers` (they do nothing unless `portal.enabled`). */
export const MESA_PORTAL_PROVIDERS: Provider[] = [MesaPortalExplorer, MesaPortalService];

/** Modules the portal providers need, for `MesaModule`'s `imports`. */
export const MESA_PORTAL_IMPORTS = [DiscoveryModule];
