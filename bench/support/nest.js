// nestjs-mesa as an application uses it: a Nest testing module importing MesaModule.forRoot({ url }).
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Dispatch, DispatcherService, Message, MesaModule } from '../../dist/index.js';

/** A provider whose method is decorated with @Dispatch, written without TypeScript's decorator syntax. */
export class RoomService {
  /** Returns a Promise, as a service method that saved something would. */
  post(message) {
    return Promise.resolve(message);
  }

  /** The same method without the decorator, dispatching by hand: what @Dispatch is measured against. */
  async postManually(message) {
    const saved = await Promise.resolve(message);
    await this.dispatcher.dispatch(new Message(0, saved, 'EVT'), saved.to);
    return saved;
  }
}
// What TypeScript emits for `@Dispatch('EVT', { recipients: (r) => r.to }) post(...)` and `@Injectable()`.
const descriptor = Reflect.decorate(
  [Dispatch('EVT', { recipients: (result) => result.to })],
  RoomService.prototype,
  'post',
  Object.getOwnPropertyDescriptor(RoomService.prototype, 'post'),
);
Object.defineProperty(RoomService.prototype, 'post', descriptor);
Injectable()(RoomService);

/**
 * Compiles and initialises a testing module with MesaModule.forRoot({ url, sync }) and RoomService.
 * Returns the module (close it), the DispatcherService and the RoomService instance Nest created.
 */
export async function createNestApp(url, { sync = false } = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [MesaModule.forRoot({ url, ...(sync ? { sync: { enabled: true } } : {}) })],
    providers: [RoomService],
  }).compile();
  await moduleRef.init();
  const dispatcher = moduleRef.get(DispatcherService);
  const rooms = moduleRef.get(RoomService);
  rooms.dispatcher = dispatcher;
  return { moduleRef, dispatcher, rooms };
}
