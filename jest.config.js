// Runs every app's and lib's tests in one jest process pool (what `npm test` calls). The
// apps/*/jest.config.js and libs/*/jest.config.js files are for running one of them alone.
const jestProject = require('./jest.preset.js');

// One project needs no name (jest would print "undefined" before every file).
const withoutDisplayName = ({ displayName: _, ...config }) => config;

module.exports = {
  // One project over apps/ and libs/, not one jest project per app and lib: jest keys its transform
  // cache by project, so with 23 projects every shared module (Nest, client-node, our libs) was
  // transpiled again for each project that loaded it (~1,300 modules, ~5 times over in a 9-project
  // run). 4 files from 4 projects, cold cache: 46.6 s of CPU as 4 projects, 31.1 s as one.
  ...withoutDisplayName(
    jestProject(__dirname, {
      roots: ['<rootDir>/apps', '<rootDir>/libs'],
      testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts', '<rootDir>/{apps,libs}/**/*.test.ts'],
    }),
  ),
  // Hooks that boot an API on a loaded machine need more than jest's default 5 s.
  testTimeout: 30_000,
  // One jest worker runs ~85 test files in a row and every file's module registry (Nest apps,
  // client-node, transpiled sources) adds to its heap; a CI run once died with "Jest worker ran out of
  // memory" near the end (Node's default heap limit here is ~4.3 GB). scripts/test.sh raises the
  // limit to 8 GB, and a worker whose heap (garbage included) passes 4 GB after a file is replaced.
  // Not lower: with 1.5 GB the whole suite took 1,127 s of jest instead of ~800 s (workers replaced often).
  workerIdleMemoryLimit: '4GB',
};
