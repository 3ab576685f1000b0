import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './mesa-app.js';
import { RedisServer } from './redis-server.js';

const require = createRequire(import.meta.url);
const SummaryReporter = require('./summary-reporter.cjs');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('test hygiene', () => {
  describe('the jest summary reporter', () => {
    let directory: string;
    beforeEach(() => (directory = mkdtempSync(join(tmpdir(), 'nestjs-mesa-summary-'))));
    afterEach(() => rmSync(directory, { recursive: true, force: true }));

    const written = (results: object) => {
      // jest hands its reporters `success: false` before it computes the real value.
      new SummaryReporter({ rootDir: ROOT }, { directory, file: 'summary.json' }).onRunComplete(new Set(), { success: false, ...results });
      return JSON.parse(readFileSync(join(directory, 'summary.json'), 'utf8'));
    };
    const run = {
      numPassedTests: 3,
      numFailedTests: 0,
      numPendingTests: 0,
      numTotalTests: 3,
      numRuntimeErrorTestSuites: 0,
      numTotalTestSuites: 1,
    };

    it('says success when nothing failed', () => {
      expect(written({ ...run, snapshot: { failure: false } })).toEqual({
        numPassedTests: 3,
        numFailedTests: 0,
        numPendingTests: 0,
        numTotalTests: 3,
        numRuntimeErrorTestSuites: 0,
        success: true,
      });
    });

    it('says failure when a test failed, a suite could not run, or nothing ran', () => {
      expect(written({ ...run, numPassedTests: 2, numFailedTests: 1 }).success).toBe(false);
      expect(written({ ...run, numRuntimeErrorTestSuites: 1 }).success).toBe(false);
      expect(written({ ...run, numTotalTestSuites: 0, numTotalTests: 0, numPassedTests: 0 }).success).toBe(false);
    });
  });

  it("a replica's full sync writes its RDB file to the temporary directory, not to the repository", async () => {
    const startedAt = Date.now();
    const primary = await RedisServer.start(['--repl-diskless-sync-delay', '0']);
    const replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(primary.port)]);
    const rdb = join(tmpdir(), `nestjs-mesa-test-${replica.port}.rdb`);
    try {
      await eventually(() => existsSync(rdb), 15_000, `the replica's RDB file at ${rdb}`);
      const stray = join(ROOT, 'dump.rdb');
      expect(existsSync(stray) && statSync(stray).mtimeMs >= startedAt).toBe(false);
    } finally {
      await replica.stop();
      await primary.stop();
    }
    expect(existsSync(rdb)).toBe(false);
  });
});
