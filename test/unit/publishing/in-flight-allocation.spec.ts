import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../../dist', import.meta.url));
const CHILD = fileURLToPath(new URL('./support/in-flight-allocation.child.mjs', import.meta.url));

// What a dispatch keeps while its batch is in flight survives scavenges by nature. When such objects are object
// literals, V8 may decide (allocation-site pretenuring) to allocate every later one in old space, where, once dead,
// they keep what they point to alive through every scavenge until the next full GC: the process then spends about
// twice the client CPU per dispatch, for good (measured: 13 of 16 processes with an OpenTelemetry SDK, about 1 in 4
// without). Built by constructors, they have no allocation site to pretenure.
describe('objects kept while a batch is in flight', () => {
  it('stay in the young generation however often V8 sees them survive a scavenge', () => {
    if (!existsSync(`${DIST}/publishing/dispatch-entries.js`))
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    // a new space at its largest from the start, as in a busy process: V8 pretenures only after such scavenges
    const flags = ['--allow-natives-syntax', '--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16'];
    const young = JSON.parse(execFileSync(process.execPath, [...flags, CHILD, DIST], { encoding: 'utf8' })) as Record<string, boolean>;
    expect(young).toEqual({
      'publish entry': true,
      'sync entry': true,
      'broadcast-except entry': true,
      'sent batch': true,
      'batch telemetry record': true,
    });
  });
});
