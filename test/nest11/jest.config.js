/**
 * Runs test/nest11/*.e2e-spec.ts with @nestjs/common, core, testing and platform-express resolved
 * from `.nest11/node_modules` (Nest 11, installed by test/nest11/run.sh) instead of the repo's Nest 12.
 * Everything else (swc transform, nestjs-mesa mapping, setup) is the main jest config's.
 */
import base from '../../jest.config.js';

export default {
  ...base,
  rootDir: '../..',
  moduleNameMapper: {
    '^@nestjs/(common|core|testing|platform-express)(/.*)?$': '<rootDir>/.nest11/node_modules/@nestjs/$1$2',
    ...base.moduleNameMapper,
  },
  testMatch: ['<rootDir>/test/nest11/**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  reporters: ['default', ['<rootDir>/test/support/summary-reporter.cjs', { file: 'jest-summary-nest11.json' }]],
};
