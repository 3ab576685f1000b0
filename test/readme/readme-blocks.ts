import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../consumers/support/consumer-workspace.js';

/** One fenced code block of the README. */
export interface ReadmeBlock {
  /** The fence's language (`ts`, `js`, `json`, `sh`...). */
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The file it is, when the paragraph above starts with **`path`** (the Quick start's files). */
  file?: string;
}

/** The README's text. */
export const readme = (): string => readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Every fenced code block of `markdown` (README.md by default; `source` names it in errors), in order. */
export function readmeBlocks(markdown: string = readme(), source = 'README.md'): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`${source}:${i + 1}: unclosed code fence`);
    // the paragraph just above the fence, from its first line
    let above = i - 1;
    while (above >= 0 && lines[above].trim() === '') above--;
    while (above > 0 && lines[above - 1].trim() !== '') above--;
    const named = above >= 0 ? /^\*\*`([^`]+)`\*\*/.exec(lines[above]) : null;
    blocks.push({ lang: open[1], code: lines.slice(i + 1, end).join('\n') + '\n', line: i + 1, file: named?.[1] });
    i = end;
  }
  return blocks;
}
