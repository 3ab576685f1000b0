import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';
import { ConsumerWorkspace, nodeBinaries, ROOT, type ConsumerFiles } from './support/consumer-workspace.js';

const run = promisify(execFile);
const NAMESPACE = 'runners';
const APPS = join(ROOT, 'test/consumers/apps');

/** The files of `test/consumers/apps/<app>` plus the shared specs under `src/`, as {@link ConsumerWorkspace.install} takes them. */
async function appFiles(app: string): Promise<{ manifest: Record<string, unknown>; files: ConsumerFiles }> {
  const files: ConsumerFiles = {};
  for (const [dir, prefix] of [
    [join(APPS, app), ''],
    [join(APPS, 'shared-src'), 'src/'],
  ]) {
    for (const path of await readdir(dir, { recursive: true, withFileTypes: false })) {
      if (/\.(ts|js|json)$/.test(path)) files[prefix + path] = await readFile(join(dir, path), 'utf8');
    }
  }
  const manifest = JSON.parse(files['package.json']);
  delete files['package.json'];
  return { manifest, files };
}

/**
 * Installs `test/consumers/apps/<app>` into an empty folder; for the Nest 11 app, with `tsconfig` (one of its two
 * generations) as its tsconfig.json and `devDependencies` over its own.
 */
async function installApp(
  app: string,
  tsconfig = 'tsconfig.json',
  devDependencies: Record<string, string> = {},
): Promise<ConsumerWorkspace> {
  const { manifest, files } = await appFiles(app);
  files['tsconfig.json'] = files[tsconfig];
  delete files['tsconfig.schematics-11.0.json'];
  return ConsumerWorkspace.install(
    { ...manifest, devDependencies: { ...(manifest.devDependencies as object), ...devDependencies } },
    files,
  );
}

const NEST11_GENERATIONS: Array<{ generation: string; tsconfig: string; devDependencies: Record<string, string> }> = [
  { generation: '@nestjs/schematics 11.1: jest 30, module nodenext', tsconfig: 'tsconfig.json', devDependencies: {} },
  {
    generation: '@nestjs/schematics 11.0: jest 29, module commonjs (moduleResolution node10: typesVersions)',
    tsconfig: 'tsconfig.schematics-11.0.json',
    devDependencies: { jest: '^29.7.0', '@types/jest': '^29.5.14' },
  },
];

/** What a jest (or vitest, whose JSON report has the same fields) run reported. */
interface RunnerReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: Array<{ name: string; status: string; message: string }>;
}

describe("adopters' test runners, in apps that `nest new` generates, against the packed tarball", () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  let user: MesaUser;
  // The apps install side by side (an install waits on the cache and the registry much of the time); each describe
  // below awaits its own. The .catch marks a failure handled until that describe awaits it and fails with it.
  const installs = new Map<string, Promise<ConsumerWorkspace>>();
  beforeAll(async () => {
    for (const { generation, tsconfig, devDependencies } of NEST11_GENERATIONS) {
      installs.set(generation, installApp('nest11-cjs', tsconfig, devDependencies));
    }
    installs.set('esm', installApp('nest12-esm'));
    installs.forEach((install) => install.catch(() => undefined));
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 1, namespace: NAMESPACE });
    user = await MesaUser.connect(mesa.url(), 'u1');
  }, 60_000);
  afterAll(async () => {
    user?.close();
    await mesa?.stop();
    await redis?.stop();
    for (const install of installs.values()) await (await install.catch(() => undefined))?.remove();
  });

  /**
   * Runs a test runner's script (`args`, e.g. jest's bin) with `node` in `workspace`, with a JSON report written to a
   * file; expects `files` spec files and `tests` tests, all passed, and the Mesa user to receive the message the
   * runner's delivery spec dispatched.
   */
  async function runSuite(workspace: ConsumerWorkspace, node: string, args: string[], expected: { files: number; tests: number }) {
    const { stdout: version } = await run(node, ['--version']);
    const appName = `${args.join(' ')} in ${workspace.dir} on node ${version.trim()}`;
    const report = join(workspace.dir, `report-${Date.now()}.json`);
    const output = await run(node, [...args, `--outputFile=${report}`], {
      cwd: workspace.dir,
      env: { ...process.env, REDIS_URL: redis.url, MESA_NAMESPACE: NAMESPACE, APP_NAME: appName, NODE_OPTIONS: '' },
      timeout: 180_000,
      maxBuffer: 16 << 20,
    }).catch((error: { stdout?: string; stderr?: string; message: string }) => ({
      failed: `${error.message}\n${error.stdout}\n${error.stderr}`,
    }));
    const results: RunnerReport = JSON.parse(await readFile(report, 'utf8').catch(() => `{ "failed": ${JSON.stringify(output)} }`));
    const failures = (results.testResults ?? [])
      .filter((suite) => suite.status !== 'passed')
      .map((suite) => `${suite.name}: ${suite.message}`);
    expect({ failures, output: 'failed' in output ? output.failed : 'exit 0' }).toEqual({ failures: [], output: 'exit 0' });
    expect({ files: results.testResults.length, passed: results.numPassedTests, failed: results.numFailedTests }).toEqual({
      files: expected.files,
      passed: expected.tests,
      failed: 0,
    });
    await user.waitFor((u) => u.of('CONSUMER').some((m) => m.d.from === appName), 10_000, `the message of ${appName}`);
  }

  const typeCheck = (workspace: ConsumerWorkspace) =>
    run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { cwd: workspace.dir, timeout: 120_000 }).catch(
      (error: { stdout?: string; stderr?: string }) => {
        throw new Error(`tsc --noEmit failed:\n${error.stdout}${error.stderr}`);
      },
    );

  describe.each(NEST11_GENERATIONS)(
    'a CommonJS Nest 11 app: jest with ts-jest, the jest block and tsconfig.json of `nest new` ($generation)',
    ({ generation }) => {
      let workspace: ConsumerWorkspace;
      beforeAll(async () => (workspace = await installs.get(generation)!), 300_000);

      it('type-checks with its TypeScript 5 (the require condition: the CommonJS build and its types)', async () => {
        await typeCheck(workspace);
      }, 120_000);

      it.each(nodeBinaries())(
        'npm test passes on %s: MesaTestingModule, DispatcherService and @Dispatch, and MesaModule to a Mesa user',
        async (node) => {
          await runSuite(workspace, node, ['node_modules/jest/bin/jest.js', '--json'], { files: 2, tests: 4 });
        },
        180_000,
      );
    },
  );

  describe('an ES module Nest 12 app: vitest as `nest new` makes it (@nestjs/schematics 12, ts-esm), and jest in ES module mode', () => {
    let workspace: ConsumerWorkspace;
    beforeAll(async () => (workspace = await installs.get('esm')!), 300_000);

    it('type-checks with its TypeScript (the import condition: the ES module build and its types)', async () => {
      await typeCheck(workspace);
    }, 120_000);

    it.each(nodeBinaries())(
      'vitest passes on %s, import and require() giving one module instance',
      async (node) => {
        await runSuite(workspace, node, ['node_modules/vitest/vitest.mjs', 'run', '--reporter=json'], { files: 3, tests: 5 });
      },
      180_000,
    );

    it.each(nodeBinaries())(
      'jest (ES module mode, @swc/jest) passes on %s',
      async (node) => {
        await runSuite(workspace, node, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--json'], { files: 2, tests: 4 });
      },
      180_000,
    );
  });
});
