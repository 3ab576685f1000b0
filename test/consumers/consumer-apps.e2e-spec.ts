import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';
import { ConsumerWorkspace, nodeBinaries, repositoryRanges, TSC } from './support/consumer-workspace.js';

const run = promisify(execFile);
const NAMESPACE = 'consumers';

/** The same small app for both module systems: MesaModule and MesaHealthModule, one health check, one dispatch. */
const main = `import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DispatcherService, Message, MesaModule, type DispatchResult } from 'nestjs-mesa';
import { MesaHealthIndicator, MesaHealthModule } from 'nestjs-mesa/health';

@Module({
  imports: [MesaModule.forRoot({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', namespace: process.env.MESA_NAMESPACE }), MesaHealthModule],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const health = await app.get(MesaHealthIndicator).isHealthy('mesa');
  const result: DispatchResult = await app.get(DispatcherService).dispatch(new Message(0, { from: process.env.APP_NAME }, 'CONSUMER'), ['u1']);
  await app.close();
  console.log(JSON.stringify({ health: health.mesa.status, result }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;

const compilerOptions = {
  target: 'es2022',
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  skipLibCheck: true,
  esModuleInterop: true,
  types: ['node'],
  rootDir: 'src',
  outDir: 'dist',
};

/** A classic CommonJS Nest app, as `nest new` made them: TypeScript 5, `module: commonjs`, `moduleResolution: node`. */
const cjsApp = {
  'package.json': JSON.stringify({ name: 'cjs-consumer', private: true }),
  'tsconfig.json': JSON.stringify({ compilerOptions: { ...compilerOptions, module: 'commonjs', moduleResolution: 'node' } }, null, 2),
  'src/main.ts': main,
};
/** An ES module app: `"type": "module"`, `module`/`moduleResolution: nodenext`, TypeScript 7. */
const esmApp = {
  'package.json': JSON.stringify({ name: 'esm-consumer', private: true, type: 'module' }),
  'tsconfig.json': JSON.stringify({ compilerOptions: { ...compilerOptions, module: 'nodenext', moduleResolution: 'nodenext' } }, null, 2),
  'src/main.ts': main,
};

describe('consumer apps built against the packed tarball (a real npm install of it, Nest 12 and their types)', () => {
  let workspace: ConsumerWorkspace;
  let redis: RedisServer;
  let mesa: MesaCluster;
  let user: MesaUser;
  beforeAll(async () => {
    workspace = await ConsumerWorkspace.install({
      name: 'consumer-apps',
      private: true,
      dependencies: await repositoryRanges('@nestjs/common', '@nestjs/core', '@nestjs/terminus', 'reflect-metadata', 'rxjs'),
      devDependencies: await repositoryRanges('@types/node'),
    });
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 1, namespace: NAMESPACE });
    user = await MesaUser.connect(mesa.url(), 'u1');
  }, 120_000);
  afterAll(async () => {
    user?.close();
    await mesa?.stop();
    await redis?.stop();
    await workspace?.remove();
  });

  describe.each([
    { name: 'CommonJS app (TypeScript 5.9, module commonjs, moduleResolution node)', dir: 'cjs-app', files: cjsApp, compiler: TSC.ts5 },
    { name: 'ES module app (TypeScript 7, module and moduleResolution nodenext)', dir: 'esm-app', files: esmApp, compiler: TSC.ts7 },
  ])('$name', ({ dir, files, compiler }) => {
    let appDir: string;
    it('type-checks and compiles imports of nestjs-mesa and nestjs-mesa/health', async () => {
      appDir = await workspace.writeApp(dir, files);
      await workspace.compile(appDir, compiler);
    }, 120_000);

    it.each(nodeBinaries())(
      'runs with %s: MesaModule boots, the health check is up, a dispatch reaches a Mesa user',
      async (node) => {
        const { stdout: version } = await run(node, ['--version']);
        const appName = `${dir} on node ${version.trim()}`;
        const { stdout } = await run(node, [join(appDir, 'dist/main.js')], {
          cwd: appDir,
          env: { ...process.env, REDIS_URL: redis.url, MESA_NAMESPACE: NAMESPACE, APP_NAME: appName },
          timeout: 30_000,
        });
        expect(JSON.parse(stdout)).toEqual({
          health: 'up',
          result: { recipients: ['u1'], publishedTo: ['u1'], storedFor: [], receivers: 1 },
        });
        await user.waitFor((u) => u.of('CONSUMER').some((m) => m.d.from === appName), 10_000, `the message of ${appName}`);
      },
      60_000,
    );
  });
});
