import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConsumerWorkspace, repositoryRanges, ROOT, TSC } from '../consumers/support/consumer-workspace.js';
import { readmeBlocks, type ReadmeBlock } from '../readme/readme-blocks.js';

/** A `ts` block of a page under docs/, named for tsc's messages: `docs-<page>-line-<n>.ts`. */
interface DocsExample extends ReadmeBlock {
  page: string;
  fileName: string;
}

const DOCS = join(ROOT, 'docs');

function docsExamples(): DocsExample[] {
  const pages = readdirSync(DOCS).filter((name) => name.endsWith('.md'));
  return pages.flatMap((page) =>
    readmeBlocks(readFileSync(join(DOCS, page), 'utf8'), `docs/${page}`)
      .filter((block) => block.lang === 'ts')
      .map((block) => ({ ...block, page, fileName: `docs-${page.replace(/\.md$/, '')}-line-${block.line}.ts` })),
  );
}

// Every ts example of docs/*.md, compiled as a user would: against the packed tarball, with the README Quick start's tsconfig.
describe('docs/*.md examples', () => {
  const examples = docsExamples();
  it('are found on every page that has code, and only in known languages', () => {
    const pages = readdirSync(DOCS).filter((name) => name.endsWith('.md'));
    const fenced = pages.flatMap((page) =>
      readmeBlocks(readFileSync(join(DOCS, page), 'utf8'), `docs/${page}`).map((b) => ({ page, ...b })),
    );
    expect(
      fenced.filter((block) => !['ts', 'js', 'json', 'sh'].includes(block.lang)).map((b) => `docs/${b.page}:${b.line} ${b.lang}`),
    ).toEqual([]);
    expect([...new Set(examples.map((example) => example.page))].sort()).toEqual([
      'dispatch-errors.md',
      'named-modules.md',
      'portal.md',
      'presence-and-backlog.md',
    ]);
  });

  it('are complete modules: their imports are written out', () => {
    const fragments = examples.filter((example) => !/^import .* from '[^']+';$/m.test(example.code));
    expect(fragments.map((example) => `docs/${example.page}:${example.line}`)).toEqual([]);
  });

  it('type-check against the packed package', async () => {
    const quickStart = readmeBlocks().find((block) => block.file === 'tsconfig.json')!;
    const { compilerOptions } = JSON.parse(quickStart.code);
    const sources: Record<string, string> = {
      'tsconfig.json': JSON.stringify({
        compilerOptions: { ...compilerOptions, types: ['node', 'jest'], noEmit: true, rootDir: '.' },
        include: ['*.ts'],
      }),
    };
    for (const example of examples) sources[example.fileName] = example.code;
    const workspace = await ConsumerWorkspace.install(
      {
        name: 'docs-examples',
        private: true,
        type: 'module',
        dependencies: await repositoryRanges(
          '@nestjs/common',
          '@nestjs/core',
          '@nestjs/config',
          '@nestjs/testing',
          'reflect-metadata',
          'rxjs',
        ),
        devDependencies: await repositoryRanges('@types/node', '@types/jest'),
      },
      sources,
    );
    try {
      await workspace.compile(workspace.dir, TSC.ts7);
    } finally {
      await workspace.remove();
    }
  }, 240_000);
});
