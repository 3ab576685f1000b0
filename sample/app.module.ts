import { type DynamicModule, Module } from '@nestjs/common';
import { MesaModule } from 'nestjs-mesa';
import { AuthController } from './auth/auth.controller.js';
import { SessionGuard } from './auth/session.guard.js';
import { ActivityController } from './chat/activity.controller.js';
import { ChatController } from './chat/chat.controller.js';
import { ChatService } from './chat/chat.service.js';
import { PresenceBook } from './chat/presence-book.js';
import { PresencePortal } from './chat/presence.portal.js';
import { PresenceService } from './chat/presence.service.js';
import { RoomsService } from './chat/rooms.service.js';
import { TypingPortal } from './chat/typing.portal.js';
import { SampleConfig, SampleConfigModule, type SampleConfigOverrides } from './config/sample-config.js';
import { MetricsModule } from './metrics/metrics.module.js';
import type { SampleMetrics } from './metrics/sample-metrics.js';

/**
 * The chat: sign-in, rooms, messages and activity. Needs `MesaModule` (for `DispatcherService`,
 * `@Dispatch` and the Redis connection) and `SampleConfigModule`; both are global.
 */
@Module({
  controllers: [AuthController, ChatController, ActivityController],
  providers: [RoomsService, PresenceBook, PresenceService, PresencePortal, ChatService, SessionGuard, TypingPortal],
})
export class ChatModule {}

/**
 * The sample's root module: configuration, then `MesaModule` fed from it through
 * `forRootAsync` (as an app with a configuration service would do), then the chat, and `GET /metrics`.
 */
@Module({})
export class AppModule {
  /**
   * @param overrides configuration values that win over the environment.
   * @param metrics the registered metrics SDK that `GET /metrics` serves; without it, no `/metrics`.
   */
  static forRoot(overrides: SampleConfigOverrides = {}, metrics?: SampleMetrics): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SampleConfigModule.forRoot(overrides),
        MesaModule.forRootAsync({
          inject: [SampleConfig],
          useFactory: (config: SampleConfig) => ({ ...config.mesaModuleOptions(), portal: { enabled: true } }),
        }),
        ChatModule,
        ...(metrics ? [MetricsModule.forRoot(metrics)] : []),
      ],
    };
  }
}
