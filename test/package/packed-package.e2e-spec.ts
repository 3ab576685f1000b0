import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RedisServer } from '../support/redis-server.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

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

describe('the packed npm package', () => {
  let workdir: string;
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
    workdir = await mkdtemp(join(tmpdir(), 'nestjs-mesa-pack-'));
  });
  afterAll(async () => {
    await redis.stop();
    await rm(workdir, { recursive: true, force: true });
  });

  it('holds the build and its types only, and loads with import (ESM app) and require() (CommonJS app)', async () => {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', workdir], { cwd: root });
    const [{ filename, files }] = JSON.parse(stdout);
    const paths: string[] = files.map((file: { path: string }) => file.path);
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']));
    expect(paths.filter((path) => !path.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(path))).toEqual([]);

    const modules = join(workdir, 'app', 'node_modules');
    await mkdir(join(modules, 'nestjs-mesa'), { recursive: true });
    await run('tar', ['xzf', join(workdir, filename), '-C', join(modules, 'nestjs-mesa'), '--strip-components=1']);
    for (const entry of await readdir(join(root, 'node_modules'))) {
      if (entry !== 'nestjs-mesa' && !entry.startsWith('.')) await symlink(join(root, 'node_modules', entry), join(modules, entry));
    }
    await writeFile(join(workdir, 'app', 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    await writeFile(join(workdir, 'app', 'esm-app.mjs'), esmApp);
    await writeFile(join(workdir, 'app', 'cjs-app.cjs'), cjsApp);

    for (const script of ['esm-app.mjs', 'cjs-app.cjs']) {
      const { stdout: output } = await run(process.execPath, [script, redis.url], { cwd: join(workdir, 'app'), timeout: 20_000 });
      expect(JSON.parse(output)).toEqual({ recipients: ['u1'], publishedTo: ['u1'], storedFor: [], receivers: 0 });
    }
  });

  it('ships source maps that carry their sources, and the metadata a registry page links to', async () => {
    const unpacked = join(workdir, 'app', 'node_modules', 'nestjs-mesa');
    const maps = (await readdir(join(unpacked, 'dist'), { recursive: true })).filter((path) => path.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
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
    // moduleResolution "node" (classic CommonJS apps) ignores `exports`: every subpath needs a typesVersions entry.
    const subpaths = Object.keys(manifest.exports).filter((key) => key !== '.' && key !== './package.json');
    for (const subpath of subpaths) {
      const types = manifest.exports[subpath].types as string;
      expect(manifest.typesVersions['*'][subpath.slice(2)]).toEqual([types]);
      expect((await readdir(join(unpacked, 'dist'), { recursive: true })).map((f) => `./dist/${f}`)).toContain(types);
    }
  });
});
