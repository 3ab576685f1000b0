import { ConsumerWorkspace, repositoryRanges, TSC } from '../consumers/support/consumer-workspace.js';
import { readmeBlocks } from './readme-blocks.js';

/**
 * Type-checks `sources` (file name → TypeScript module) as an ES module app that installed the packed package:
 * the README Quick start's `compilerOptions` (with Node and jest types, no emit), `dependencies` at this repository's
 * ranges, `@types/node` and `@types/jest`. Rejects with tsc's output when a source does not compile.
 */
export async function typeCheckAgainstPackage(name: string, sources: Record<string, string>, dependencies: string[]): Promise<void> {
  const quickStart = readmeBlocks().find((block) => block.file === 'tsconfig.json')!;
  const { compilerOptions } = JSON.parse(quickStart.code);
  const tsconfig = {
    compilerOptions: { ...compilerOptions, types: ['node', 'jest'], noEmit: true, rootDir: '.' },
    include: ['*.ts'],
  };
  const workspace = await ConsumerWorkspace.install(
    {
      name,
      private: true,
      type: 'module',
      dependencies: await repositoryRanges(...dependencies),
      devDependencies: await repositoryRanges('@types/node', '@types/jest'),
    },
    { 'tsconfig.json': JSON.stringify(tsconfig), ...sources },
  );
  try {
    await workspace.compile(workspace.dir, TSC.ts7);
  } finally {
    await workspace.remove();
  }
}
