// Runs every project's tests in one jest process pool (what `npm test` calls).
module.exports = {
  // testTimeout is a global option: set in a project's config (jest.preset.js) it is ignored when
  // the projects run together, and hooks that boot an API on a loaded machine fell back to 5 s.
  testTimeout: 30_000,
  projects: ['<rootDir>/apps/*/jest.config.js', '<rootDir>/libs/*/jest.config.js'],
};
