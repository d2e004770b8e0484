// Runs every project's tests in one jest process pool (what `npm test` calls).
module.exports = {
  // testTimeout is a global option: set in a project's config (jest.preset.js) it is ignored when
  // the projects run together, and hooks that boot an API on a loaded machine fell back to 5 s.
  testTimeout: 30_000,
  // One jest worker runs ~85 test files in a row and every file's module registry (Nest apps,
  // client-node, transpiled sources) adds to its heap; a CI run once died with "Jest worker ran out of
  // memory" near the end (Node's default heap limit here is ~4.3 GB). scripts/test.sh raises the
  // limit to 8 GB, and a worker whose heap (garbage included) passes 4 GB after a file is replaced.
  // Not lower: with 1.5 GB the whole suite took 1,127 s of jest instead of ~800 s (workers replaced often).
  workerIdleMemoryLimit: '4GB',
  projects: ['<rootDir>/apps/*/jest.config.js', '<rootDir>/libs/*/jest.config.js'],
};
