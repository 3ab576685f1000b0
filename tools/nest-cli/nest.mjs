// Runs the Nest CLI (`nest start`, `nest build`) with the TypeScript 6 it depends on.
// The CLI loads TypeScript's compiler API from the project first; this project compiles with TypeScript 7,
// which ships the `tsc` executable only, so the CLI's own TypeScript 6 is handed to it instead.
import Module, { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cliPackage = require.resolve('@nestjs/cli/package.json');
const typescript6 = createRequire(cliPackage).resolve('typescript');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'typescript' ? typescript6 : resolve.call(this, request, ...rest);
};
await import(createRequire(cliPackage).resolve('./bin/nest.js'));
