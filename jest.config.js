/** jest 30 in ESM mode with @swc/jest (see README "Tests"). */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'es6' },
};

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^nestjs-mesa$': '<rootDir>/lib/index.ts', '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/sample/**/*.spec.ts'],
  setupFiles: ['<rootDir>/test/support/setup.ts'],
  // test/consumers/apps holds adopters' apps, run by their own test runners in test/consumers/test-runners.e2e-spec.ts
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/nest11/', '<rootDir>/test/consumers/apps/'],
  testTimeout: 30_000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
