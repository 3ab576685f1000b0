import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** TypeScript 7 (the repository's) and TypeScript 5.9 (what a classic CommonJS Nest app compiles with). */
export const TSC = { ts7: join(ROOT, 'node_modules/typescript/bin/tsc'), ts5: join(ROOT, 'node_modules/typescript-5/bin/tsc') };

/** One file a consumer package holds: its path inside the package and its text. */
export type ConsumerFiles = Record<string, string>;

/**
 * A temporary directory with `node_modules/nestjs-mesa` unpacked from `npm pack` of this repository
 * (the build must exist: `npm run build`) and every other package linked from the repository's
 * node_modules, so apps written beside it install nothing and resolve nestjs-mesa exactly as an adopter's would.
 */
export class ConsumerWorkspace {
  private constructor(
    readonly dir: string,
    /** Paths inside the tarball. */
    readonly packedFiles: string[],
  ) {}

  static async create(): Promise<ConsumerWorkspace> {
    const dir = await mkdtemp(join(tmpdir(), 'nestjs-mesa-consumer-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT });
    const [{ filename, files }] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const modules = join(dir, 'node_modules');
    await mkdir(join(modules, 'nestjs-mesa'), { recursive: true });
    await run('tar', ['xzf', join(dir, filename), '-C', join(modules, 'nestjs-mesa'), '--strip-components=1']);
    for (const entry of await readdir(join(ROOT, 'node_modules'))) {
      if (entry !== 'nestjs-mesa' && !entry.startsWith('.')) await symlink(join(ROOT, 'node_modules', entry), join(modules, entry));
    }
    return new ConsumerWorkspace(
      dir,
      files.map((file) => file.path),
    );
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
