// nestjs-mesa as an application uses it: a Nest testing module importing MesaModule.forRoot({ url }), from a
// build loaded by builds.js (this checkout's ./dist by default). loadMesa(dir) imports another checkout's dist.
import 'reflect-metadata';
import { loadBuild, revision } from './builds.js';

/** Another checkout's built nestjs-mesa: its dist module and its revision (builds.js revision()). */
export async function loadMesa(dir) {
  const { mesa } = await loadBuild(dir);
  return { mesa, rev: revision(dir) };
}

const roomServices = new WeakMap();

/**
 * A provider whose method is decorated with the build's @Dispatch, written without TypeScript's decorator
 * syntax (one class per build, so the decorator, Nest and the module come from the same checkout).
 */
function roomServiceFor(build) {
  if (roomServices.has(build)) return roomServices.get(build);
  const { mesa } = build;
  class RoomService {
    /** Returns a Promise, as a service method that saved something would. */
    post(message) {
      return Promise.resolve(message);
    }

    /** The same method without the decorator, dispatching by hand: what @Dispatch is measured against. */
    async postManually(message) {
      const saved = await Promise.resolve(message);
      await this.dispatcher.dispatch(new mesa.Message(0, saved, 'EVT'), saved.to);
      return saved;
    }
  }
  // What TypeScript emits for `@Dispatch('EVT', { recipients: (r) => r.to }) post(...)` and `@Injectable()`.
  const descriptor = Reflect.decorate(
    [mesa.Dispatch('EVT', { recipients: (result) => result.to })],
    RoomService.prototype,
    'post',
    Object.getOwnPropertyDescriptor(RoomService.prototype, 'post'),
  );
  Object.defineProperty(RoomService.prototype, 'post', descriptor);
  build.Injectable()(RoomService);
  roomServices.set(build, RoomService);
  return RoomService;
}

/**
 * Compiles and initialises a testing module with MesaModule.forRoot({ url, sync, ...options }) and a RoomService, from
 * `build` (builds.js loadBuild(); default this checkout). Returns the module (close it), the DispatcherService,
 * the RoomService instance Nest created and the build's dist module (build messages with its Message class).
 */
export async function createNestApp(url, { sync = false, build, options = {} } = {}) {
  build ??= await loadBuild();
  const RoomService = roomServiceFor(build);
  const moduleRef = await build.Test.createTestingModule({
    imports: [build.mesa.MesaModule.forRoot({ url, ...options, ...(sync ? { sync: { enabled: true } } : {}) })],
    providers: [RoomService],
  }).compile();
  await moduleRef.init();
  const dispatcher = moduleRef.get(build.mesa.DispatcherService);
  const rooms = moduleRef.get(RoomService);
  rooms.dispatcher = dispatcher;
  return { moduleRef, dispatcher, rooms, mesa: build.mesa };
}
