import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisServer } from '../support/redis-server.js';
import { ConsumerWorkspace, nodeBinaries, repositoryRanges, ROOT } from '../consumers/support/consumer-workspace.js';

const run = promisify(execFile);

const esmApp = `
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DispatcherService, Message, MesaModule } from 'nestjs-mesa';
const app = await NestFactory.createApplicationContext(MesaModule.forRoot({ url: process.argv[2] }), { logger: false });
const result = await app.get(DispatcherService).dispatch(new Message(0, { via: 'import' }, 'SMOKE'), ['u1']);
await app.close();
console.log(JSON.stringify(result));
`;
const cjsApp = `
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { DispatcherService, Message, MesaModule } = require('nestjs-mesa');
(async () => {
  const app = await NestFactory.createApplicationContext(MesaModule.forRoot({ url: process.argv[2] }), { logger: false });
  const result = await app.get(DispatcherService).dispatch(new Message(0, { via: 'require' }, 'SMOKE'), ['u1']);
  await app.close();
  console.log(JSON.stringify(result));
})();
`;

/**
 * One process that both imports and requires the package: a CommonJS file (`legacy.cjs`, as a CommonJS dependency
 * of an ES module app would be) requires it and asks Nest for DispatcherService by the class it got; the ES module
 * app imports MesaModule. Two copies of the package would make that class an unknown token.
 */
const mixedApp = `
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as imported from 'nestjs-mesa';
import * as importedHealth from 'nestjs-mesa/health';
const require = createRequire(import.meta.url);
const legacy = require('./legacy.cjs');
const required = require('nestjs-mesa');
const requiredHealth = require('nestjs-mesa/health');
const same = (a, b) => Object.keys(a).filter((key) => key !== 'default' && a[key] !== b[key]);

class AppModule {}
Module({ imports: [imported.MesaModule.forRoot({ url: process.argv[2] })], providers: [legacy.NotifierProvider] })(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const notifier = app.get('NOTIFIER');
let error;
try {
  await notifier.dispatcher.dispatch(new required.Message(0, {}, 'X'), [' ']);
} catch (caught) {
  error = caught;
}
await app.close();
console.log(JSON.stringify({
  resolved: { import: import.meta.resolve('nestjs-mesa'), require: require.resolve('nestjs-mesa') },
  differing: same(imported, required),
  differingHealth: same(importedHealth, requiredHealth),
  injected: notifier.dispatcher instanceof imported.DispatcherService,
  validationError: error instanceof imported.MesaValidationError && error instanceof required.MesaError,
}));
`;
const legacyModule = `
const { DispatcherService } = require('nestjs-mesa');
exports.NotifierProvider = { provide: 'NOTIFIER', useFactory: (dispatcher) => ({ dispatcher }), inject: [DispatcherService] };
`;

describe('the packed npm package', () => {
  let workspace: ConsumerWorkspace;
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
    workspace = await ConsumerWorkspace.install(
      {
        name: 'packed-package-consumer',
        private: true,
        dependencies: await repositoryRanges('@nestjs/common', '@nestjs/core', '@nestjs/terminus', 'reflect-metadata', 'rxjs'),
      },
      { 'esm-app.mjs': esmApp, 'cjs-app.cjs': cjsApp, 'legacy.cjs': legacyModule },
    );
  }, 180_000);
  afterAll(async () => {
    await redis?.stop();
    await workspace?.remove();
  });

  it('holds the ES module build, the CommonJS build and their types only', () => {
    const paths = workspace.packedFiles;
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/health/index.js',
        'dist/cjs/package.json',
        'dist/cjs/index.js',
        'dist/cjs/index.d.ts',
        'dist/cjs/health/index.js',
        'dist/cjs/health/index.d.ts',
      ]),
    );
    expect(paths.filter((path) => !path.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(path))).toEqual([]);
    const esm = paths.filter((path) => path.startsWith('dist/') && !path.startsWith('dist/cjs/'));
    const cjs = paths.filter((path) => path.startsWith('dist/cjs/') && path !== 'dist/cjs/package.json');
    expect(cjs.map((path) => path.replace('dist/cjs/', 'dist/')).sort()).toEqual(esm.sort());
  });

  it('both builds export the same names, from both entry points', async () => {
    const unpacked = join(workspace.dir, 'node_modules', 'nestjs-mesa');
    const names = async (entry: string) => {
      const script =
        `const esm = Object.keys(await import(${JSON.stringify(join(unpacked, 'dist', entry))})).sort();` +
        `const { createRequire } = await import('node:module');` +
        `const cjs = Object.keys(createRequire(import.meta.url)(${JSON.stringify(join(unpacked, 'dist/cjs', entry))})).sort();` +
        'console.log(JSON.stringify({ esm, cjs }));';
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: workspace.dir });
      return JSON.parse(stdout) as { esm: string[]; cjs: string[] };
    };
    for (const entry of ['index.js', 'health/index.js']) {
      const { esm, cjs } = await names(entry);
      expect(esm.length).toBeGreaterThan(entry === 'index.js' ? 40 : 4);
      expect(cjs.filter((name) => name !== 'default' && name !== '__esModule')).toEqual(esm);
    }
  });

  it.each(nodeBinaries())('loads with import (ESM app) and require() (CommonJS app) on %s', async (node) => {
    for (const script of ['esm-app.mjs', 'cjs-app.cjs']) {
      const { stdout: output } = await run(node, [script, redis.url], { cwd: workspace.dir, timeout: 20_000 });
      expect(JSON.parse(output)).toEqual({ recipients: ['u1'], publishedTo: ['u1'], storedFor: [], receivers: 0 });
    }
  });

  it.each(nodeBinaries())('is one module instance when one process imports and requires it, on %s', async (node) => {
    await workspace.writeApp('.', { 'mixed-app.mjs': mixedApp });
    const { stdout } = await run(node, ['mixed-app.mjs', redis.url], { cwd: workspace.dir, timeout: 20_000 });
    const unpacked = join(workspace.dir, 'node_modules', 'nestjs-mesa');
    expect(JSON.parse(stdout)).toEqual({
      // Node >= 20.19 matches "module-sync" for import and require() alike: both get the ES module build.
      resolved: { import: `file://${join(unpacked, 'dist/index.js')}`, require: join(unpacked, 'dist/index.js') },
      differing: [],
      differingHealth: [],
      injected: true,
      validationError: true,
    });
  });

  it('ships source maps that carry their sources, and the metadata a registry page links to', async () => {
    const unpacked = join(workspace.dir, 'node_modules', 'nestjs-mesa');
    const maps = (await readdir(join(unpacked, 'dist'), { recursive: true })).filter((path) => path.endsWith('.js.map'));
    expect(maps.filter((path) => path.startsWith('cjs/')).length).toBeGreaterThan(10);
    expect(maps.filter((path) => !path.startsWith('cjs/')).length).toBeGreaterThan(10);
    for (const path of maps) {
      const map = JSON.parse(await readFile(join(unpacked, 'dist', path), 'utf8'));
      // The maps name ../lib/*.ts, which is not in the tarball: the text of each source is inlined instead.
      expect({ path, inlined: map.sourcesContent?.length }).toEqual({ path, inlined: map.sources.length });
      expect(map.sourcesContent.every((text: unknown) => typeof text === 'string' && text.length > 0)).toBe(true);
    }
    const manifest = JSON.parse(await readFile(join(unpacked, 'package.json'), 'utf8'));
    expect(manifest.repository).toEqual({ type: 'git', url: 'git+https://github.com/nestjs-mesa/nestjs-mesa.git' });
    expect(manifest.homepage).toBe('https://github.com/nestjs-mesa/nestjs-mesa#readme');
    expect(manifest.bugs).toEqual({ url: 'https://github.com/nestjs-mesa/nestjs-mesa/issues' });
    // moduleResolution "node" (classic CommonJS apps) ignores `exports`: every subpath needs a typesVersions entry,
    // pointing at the CommonJS build's types, as `require` does.
    const subpaths = Object.keys(manifest.exports).filter((key) => key !== '.' && key !== './package.json');
    const shipped = (await readdir(join(unpacked, 'dist'), { recursive: true })).map((f) => `./dist/${f}`);
    for (const subpath of subpaths) {
      const types = manifest.exports[subpath].require.types as string;
      expect(manifest.typesVersions['*'][subpath.slice(2)]).toEqual([types]);
      expect(shipped).toContain(types);
    }
    // Every entry point has the same four conditions, and each names files the tarball holds.
    for (const [subpath, conditions] of Object.entries(manifest.exports)) {
      if (subpath === './package.json') continue;
      expect(Object.keys(conditions as object)).toEqual(['module-sync', 'import', 'require', 'default']);
      const targets = JSON.stringify(conditions).match(/\.\/dist\/[^"]+/g)!;
      expect(targets.filter((target) => !shipped.includes(target))).toEqual([]);
    }
    expect(shipped).toContain(manifest.main);
    expect(shipped).toContain(manifest.types);
  });

  describe('packed from a fresh copy of the tree, where dist/ does not exist', () => {
    let clone: string;
    beforeAll(async () => {
      clone = await mkdtemp(join(tmpdir(), 'nestjs-mesa-clone-'));
      // The files a clone of this working tree would hold (tracked or new, not ignored: no dist/, no node_modules/).
      await run(
        'bash',
        [
          '-c',
          `git ls-files -z --cached --others --exclude-standard -- . ':!:node_modules' | tar --null -T - --ignore-failed-read -cf - | tar -xf - -C "${clone}"`,
        ],
        {
          cwd: ROOT,
        },
      );
      // What `npm ci` gives a clone; not `npm ci` itself, which runs `prepare` and so would build before packing.
      await symlink(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    }, 60_000);
    afterAll(async () => clone && rm(clone, { recursive: true, force: true }));

    it('npm pack builds first (the prepare script) and ships both builds of every source file', async () => {
      await expect(readdir(join(clone, 'dist'))).rejects.toThrow(/ENOENT/);
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', clone], { cwd: clone, timeout: 120_000 });
      const [{ files }] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
      const paths = new Set(files.map((file) => file.path));
      const { stdout: sources } = await run('find', ['lib', '-type', 'f'], { cwd: clone });
      const expected = sources
        .split('\n')
        .filter((path) => path.endsWith('.ts'))
        .flatMap((path) => {
          const js = path.replace(/^lib\//, '').replace(/\.ts$/, '.js');
          return [`dist/${js}`, `dist/cjs/${js}`];
        });
      expect(expected.length).toBeGreaterThan(100);
      expect(expected.filter((path) => !paths.has(path))).toEqual([]);
      expect(paths.has('dist/cjs/package.json')).toBe(true);
    }, 120_000);
  });
});
