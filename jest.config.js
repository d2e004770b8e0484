// Runs every project's tests in one jest process pool (what `npm test` calls).
module.exports = {
  projects: ['<rootDir>/apps/*/jest.config.js', '<rootDir>/libs/*/jest.config.js'],
};
