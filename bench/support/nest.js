// nestjs-mesa as an application uses it: a Nest testing module importing MesaModule.forRoot({ url }).
// By default from this checkout's ./dist; loadMesa(dir) imports another checkout's dist (BENCH_BASELINE).
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as localMesa from '../../dist/index.js';

/** This checkout's nestjs-mesa (./dist). */
export const LOCAL_MESA = localMesa;

/** Another checkout's built nestjs-mesa: its dist module and `git rev-parse --short HEAD` of that checkout. */
export async function loadMesa(dir) {
  const mesa = await import(pathToFileURL(join(dir, 'dist', 'index.js')).href);
  let rev = 'unknown';
  try {
    rev = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: the label says "unknown"
  }
  return { mesa, rev };
}

const roomServices = new WeakMap();

/**
 * A provider whose method is decorated with `mesa`'s @Dispatch, written without TypeScript's decorator
 * syntax (one class per nestjs-mesa build, so the decorator and the module come from the same dist).
 */
function roomServiceFor(mesa) {
  if (roomServices.has(mesa)) return roomServices.get(mesa);
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
  Injectable()(RoomService);
  roomServices.set(mesa, RoomService);
  return RoomService;
}

/**
 * Compiles and initialises a testing module with MesaModule.forRoot({ url, sync }) and a RoomService, from
 * `mesa` (a nestjs-mesa dist module; default ./dist). Returns the module (close it), the DispatcherService,
 * the RoomService instance Nest created and `mesa` (build messages with its Message class).
 */
export async function createNestApp(url, { sync = false, mesa = localMesa } = {}) {
  const RoomService = roomServiceFor(mesa);
  const moduleRef = await Test.createTestingModule({
    imports: [mesa.MesaModule.forRoot({ url, ...(sync ? { sync: { enabled: true } } : {}) })],
    providers: [RoomService],
  }).compile();
  await moduleRef.init();
  const dispatcher = moduleRef.get(mesa.DispatcherService);
  const rooms = moduleRef.get(RoomService);
  rooms.dispatcher = dispatcher;
  return { moduleRef, dispatcher, rooms, mesa };
}
