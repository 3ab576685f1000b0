// jest 30 in ES module mode with @swc/jest, the setup this repository runs its own suite with (CONTRIBUTING.md).
// Not the import-and-require spec: jest's require() cannot load an ES module (Nest 12) below Node 24.9.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'es6' },
      },
    ],
  },
  testMatch: ['<rootDir>/src/chat.spec.ts', '<rootDir>/src/delivery.spec.ts'],
};
