// Run by in-flight-allocation.spec.ts as `node --allow-natives-syntax --expose-gc <this> <dist dir>`: builds each
// kind of object a dispatch keeps while its batch is in flight, through the library's own code (its build in
// dist/), many times over, each time alive across a scavenge (as a real backlog of dispatches in flight is), so
// that V8 gathers the allocation-site feedback it bases pretenuring on. Then prints, for each kind, whether a
// fresh one is still allocated in the young generation: `{"publish entry":true,…}`.
import { pathToFileURL } from 'node:url';

const dist = process.argv[2];
const load = (path) => import(pathToFileURL(`${dist}/${path}`).href);
const { dispatchEntry, entryOf } = await load('publishing/dispatch-entries.js');
const { DispatchQueue } = await load('publishing/dispatch-queue.js');
const { BatchTelemetry } = await load('publishing/dispatch-telemetry.js');

const inYoungGeneration = new Function('object', 'return %InYoungGeneration(object)');
const ROUNDS = 200;
const ALIVE = 2000;

const settlement = { succeed() {}, fail() {} };
const options = { dispatchTimeout: 10_000, syncEnabled: true, syncTtl: 0, sweepInterval: 0 };
const prepared = (i, storable) => ({
  messageJson: `{"op":0,"d":${i}}`,
  recipients: ['u1', 'u2'],
  recipientsJson: '["u1","u2"]',
  storable,
  broadcast: false,
});

/** Builds ALIVE objects with `make`, keeps them across a scavenge, ROUNDS times; then whether a new one is young. */
async function staysYoung(make) {
  for (let round = 0; round < ROUNDS; round++) {
    const alive = [];
    for (let i = 0; i < ALIVE; i++) alive.push(await make(i));
    gc({ type: 'minor' });
  }
  return inYoungGeneration(await make(0));
}

const limits = {
  batchEntries: 1,
  batchSize: 1e9,
  batchArgs: 1e9,
  unansweredBatches: 1e9,
  unansweredSize: 1e9,
  queuedDispatches: 1e9,
  queuedSize: 1e9,
};
const queue = new DispatchQueue({
  send: () => new Promise(() => undefined),
  batchFailure: (error) => error,
  connectionStatus: () => 'ready',
  failures: {},
  onUnconsumedFailure() {},
  dispatchTimeout: 10_000,
  whenDisconnected: 'queue',
  limits,
});
const sent = queue['sent'];
const sentBatch = (i) => {
  queue.push(dispatchEntry(prepared(i, false), { ...options, syncEnabled: false }, settlement));
  const batch = [...sent].at(-1);
  clearTimeout(batch.timer);
  if (sent.size >= ALIVE) sent.clear();
  return batch;
};

const telemetry = { enabled: true, metered: true, openCreates: 0, startSend: () => undefined, batchEnded() {} };
const batches = new BatchTelemetry(telemetry);
const batchRecord = () => {
  const batch = [];
  void batches.send(batch, () => new Promise(() => undefined));
  return batches['batches'].get(batch);
};

const results = {
  'publish entry': await staysYoung((i) => dispatchEntry(prepared(i, false), options, settlement)),
  'sync entry': await staysYoung((i) => dispatchEntry(prepared(i, true), options, settlement)),
  'broadcast-except entry': await staysYoung((i) =>
    entryOf({ kind: 'broadcast-except', messageJson: `{"d":${i}}`, excluding: ['u1'], promise: settlement }, 10_000),
  ),
  'sent batch': await staysYoung(sentBatch),
  'batch telemetry record': await staysYoung(batchRecord),
};
process.stdout.write(JSON.stringify(results));
process.exit(0);
