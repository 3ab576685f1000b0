// The contenders, behind one shape so every scenario drives them identically:
//   { key, label, dispatch(recipients, data, type) -> Promise | undefined, settle() -> Promise, close() -> Promise }
// settle() resolves once Redis has executed every command the contender issued so far (the original
// Dispatcher returns nothing and fires its sync writes and publishes without awaiting them).
// createContender() builds one in the calling process, from one build (builds.js): the memory and latency
// scenarios use it in the bench's process, app-process.js in the processes that host the other scenarios'
// contenders (hosts.js).
import { loadBuild } from './builds.js';
import { createNestApp } from './nest.js';
import { telemetryContender, TELEMETRY_LABELS } from './telemetry-contenders.js';

export const LABELS = {
  original: '@cryb/mesa Dispatcher (original)',
  raw: 'raw ioredis publish',
  nestjs: 'nestjs-mesa DispatcherService',
  decorated: 'nestjs-mesa @Dispatch method',
  manual: 'same method, dispatch() by hand',
  ...TELEMETRY_LABELS,
};

/** Creates contender `key` ('original' | 'raw' | 'nestjs' | 'decorated' | 'manual') on Redis `url`, from `build` (default this checkout). */
export async function createContender(key, url, { sync = false, build } = {}) {
  build ??= await loadBuild();
  switch (key) {
    case 'original':
      return original(build, url, sync);
    case 'raw':
      return raw(build, url);
    case 'nestjs':
    case 'decorated':
    case 'manual':
      return nestjs(build, key, url, sync);
    case 'telemetry-off':
    case 'telemetry-nosdk':
    case 'telemetry-sdk':
    case 'telemetry-off-sdk':
      return telemetryContender(build, key, url);
    default:
      throw new Error(`unknown contender ${key}`);
  }
}

async function original({ MesaDispatcher, MesaMessage }, url, sync) {
  const dispatcher = new MesaDispatcher(url, sync ? { sync: { enabled: true } } : undefined);
  // Its two ioredis 4 clients (commands and publishes); ping both so they are connected before timing.
  const clients = [dispatcher.redis, dispatcher.publisher];
  await Promise.all(clients.map((client) => client.ping()));
  return {
    key: 'original',
    label: LABELS.original,
    dispatch: (recipients, data, type) => dispatcher.dispatch(new MesaMessage(0, data, type), recipients),
    // Commands on one connection run in order: a PING answered means everything issued before it ran.
    settle: () => Promise.all(clients.map((client) => client.ping())),
    close: () => Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect()))),
  };
}

async function raw({ Redis }, url) {
  const client = new Redis(url, { enableAutoPipelining: true });
  await client.ping();
  return {
    key: 'raw',
    label: LABELS.raw,
    dispatch: (recipients, data, type) => client.publish('ws', JSON.stringify({ message: { op: 0, d: data, t: type }, recipients })),
    settle: async () => undefined,
    close: () => client.quit().catch(() => client.disconnect()),
  };
}

async function nestjs(build, key, url, sync) {
  const { moduleRef, dispatcher, rooms, mesa } = await createNestApp(url, { sync, build });
  const { Message } = mesa;
  const dispatch =
    key === 'decorated'
      ? (recipients, data) => rooms.post(data) // recipients come from data.to, type is the decorator's 'EVT'
      : key === 'manual'
        ? (recipients, data) => rooms.postManually(data)
        : (recipients, data, type) => dispatcher.dispatch(new Message(0, data, type), recipients);
  return {
    key,
    label: LABELS[key],
    dispatch,
    settle: async () => undefined,
    close: () => moduleRef.close(),
  };
}
