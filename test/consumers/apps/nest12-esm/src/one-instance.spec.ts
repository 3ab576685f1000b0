// An ES module app whose test imports the package while a CommonJS dependency would require() it: both must be
// one module instance (one DispatcherService class, the injection token; one MesaError for instanceof).
import { createRequire } from 'node:module';
import * as imported from 'nestjs-mesa';
import * as importedHealth from 'nestjs-mesa/health';

const require = createRequire(import.meta.url);

it('import and require() give the same module', () => {
  const required = require('nestjs-mesa');
  expect(required.DispatcherService).toBe(imported.DispatcherService);
  expect(required.MesaError).toBe(imported.MesaError);
  expect(required.MesaModule).toBe(imported.MesaModule);
  expect(require('nestjs-mesa/health').MesaHealthModule).toBe(importedHealth.MesaHealthModule);
});
