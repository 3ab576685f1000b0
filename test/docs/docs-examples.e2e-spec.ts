import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../consumers/support/consumer-workspace.js';
import { readmeBlocks, type ReadmeBlock } from '../readme/readme-blocks.js';
import { typeCheckAgainstPackage } from '../readme/type-check-against-package.js';

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
    const sources = Object.fromEntries(examples.map((example) => [example.fileName, example.code]));
    await typeCheckAgainstPackage('docs-examples', sources, [
      '@nestjs/common',
      '@nestjs/core',
      '@nestjs/config',
      '@nestjs/testing',
      'reflect-metadata',
      'rxjs',
    ]);
  }, 240_000);
});
