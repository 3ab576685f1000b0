// The CommonJS build (dist/cjs, from tsconfig.build.cjs.json) sits inside a "type": "module" package: this
// package.json tells Node, jest and TypeScript that the .js and .d.ts files under dist/cjs are CommonJS.
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../../dist/cjs/package.json', import.meta.url), JSON.stringify({ type: 'commonjs' }, null, 2) + '\n');
