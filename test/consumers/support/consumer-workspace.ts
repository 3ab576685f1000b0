import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { verbose } from '../../support/verbose.js';

const run = promisify(execFile);

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** TypeScript 7 (the repository's) and TypeScript 5.9 (what a classic CommonJS Nest app compiles with). */
export const TSC = { ts7: join(ROOT, 'node_modules/typescript/bin/tsc'), ts5: join(ROOT, 'node_modules/typescript-5/bin/tsc') };

/** One file a consumer package holds: its path inside the package and its text. */
export type ConsumerFiles = Record<string, string>;

/**
 * The version ranges this repository's package.json gives `names` (its devDependencies, then peers), so the
 * consumer apps install the Nest, TypeScript and types this repository is tested with.
 */
export async function repositoryRanges(...names: string[]): Promise<Record<string, string>> {
  const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  return Object.fromEntries(
    names.map((name) => {
      const range = manifest.devDependencies[name] ?? manifest.peerDependencies[name];
      if (!range) throw new Error(`package.json names no ${name}`);
      return [name, range];
    }),
  );
}

/** The file name the tarball gets inside a workspace; a manifest names it as `"nestjs-mesa": "file:nestjs-mesa.tgz"`. */
export const TARBALL = 'nestjs-mesa.tgz';

/** Options every npm command of a consumer test gets: no audit or funding calls, the npm cache before the registry. */
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/**
 * The packed package, as an adopter installs it: `MESA_TARBALL` when set (.ci/run packs it once, from its clean
 * clone, with the `prepare` build), otherwise `npm pack --ignore-scripts` of this working tree's `dist/` (`npm test`
 * builds it first), into `dir`. Packing never rebuilds: other tests load `dist/` at the same time.
 */
export async function packedTarball(dir: string): Promise<{ tarball: string; files: string[] }> {
  const tarball = join(dir, TARBALL);
  if (process.env.MESA_TARBALL) {
    await copyFile(process.env.MESA_TARBALL, tarball);
  } else {
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
    const [{ filename }] = JSON.parse(stdout) as Array<{ filename: string }>;
    await rename(join(dir, filename), tarball);
  }
  const { stdout: listing } = await run('tar', ['tzf', tarball]);
  const files = listing
    .split('\n')
    .filter((line) => line && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''));
  return { tarball, files };
}

/**
 * An empty temporary folder holding the packed tarball (as {@link TARBALL}), where a test installs an app with a
 * real `npm install` (the tarball and the app's own dependencies, from the npm cache or the registry) and runs what
 * that app's user runs. Nothing is linked from this repository's node_modules.
 */
export class ConsumerWorkspace {
  private constructor(
    readonly dir: string,
    /** Paths inside the tarball. */
    readonly packedFiles: string[],
  ) {}

  /** An empty folder with the tarball in it. */
  static async empty(): Promise<ConsumerWorkspace> {
    const dir = await mkdtemp(join(tmpdir(), 'nestjs-mesa-consumer-'));
    const { files } = await packedTarball(dir);
    return new ConsumerWorkspace(dir, files);
  }

  /**
   * An empty folder with `files` and a `package.json` made of `manifest` with nestjs-mesa added to its dependencies
   * (the tarball), installed with `npm install`. Apps written into subfolders later resolve the same node_modules.
   */
  static async install(manifest: Record<string, unknown>, files: ConsumerFiles = {}): Promise<ConsumerWorkspace> {
    const workspace = await ConsumerWorkspace.empty();
    try {
      const dependencies = { 'nestjs-mesa': `file:${TARBALL}`, ...(manifest.dependencies as object) };
      await workspace.writeApp('.', { ...files, 'package.json': JSON.stringify({ ...manifest, dependencies }, null, 2) });
      await workspace.npm(['install']);
      return workspace;
    } catch (error) {
      await workspace.remove();
      throw error;
    }
  }

  /** Runs `npm <args>` in `cwd` (default: the workspace); rejects with npm's output. Returns stdout and stderr. */
  async npm(args: string[], cwd: string = this.dir): Promise<string> {
    const started = performance.now();
    try {
      const flags = ['install', 'i', 'ci'].includes(args[0]) ? NPM_FLAGS : [];
      const { stdout, stderr } = await run('npm', [...args, ...flags], { cwd, timeout: 300_000, maxBuffer: 16 << 20 });
      verbose(`consumer workspace: npm ${args.join(' ')} took ${Math.round(performance.now() - started)} ms`);
      return stdout + stderr;
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`npm ${args.join(' ')} in ${cwd} failed:\n${stdout ?? ''}${stderr ?? ''}`);
    }
  }

  /** Writes `files` under `name/` and returns that directory. */
  async writeApp(name: string, files: ConsumerFiles): Promise<string> {
    const appDir = join(this.dir, name);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(appDir, path)), { recursive: true });
      await writeFile(join(appDir, path), text);
    }
    return appDir;
  }

  /** Runs `tsc -p <appDir>` with `compiler`; rejects with tsc's diagnostics. */
  async compile(appDir: string, compiler: string = TSC.ts7, extraArgs: string[] = []): Promise<void> {
    try {
      await run(process.execPath, [compiler, '-p', appDir, ...extraArgs], { cwd: appDir, timeout: 120_000 });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`tsc -p ${appDir} failed:\n${stdout ?? ''}${stderr ?? ''}`);
    }
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Node binaries to run consumer apps with: this one, plus those listed (comma-separated) in
 * `MESA_EXTRA_NODES` (.ci/run puts a Node 22 there).
 */
export function nodeBinaries(): string[] {
  const extra = (process.env.MESA_EXTRA_NODES ?? '').split(',').filter(Boolean);
  return [process.execPath, ...extra];
}
