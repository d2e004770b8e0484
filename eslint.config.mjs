import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

const frameworkAndIo = ['@nestjs/*', '@prisma/*', 'prisma', 'bullmq', 'ioredis', 'pg', 'fastify', 'nestjs-*', '@kubernetes/*', '@google-cloud/*'];

/**
 * Layering: domain is pure; contracts only describe; platform is shared infrastructure; features
 * build on those and on each other's public index; apps compose. The launcher (and the test
 * harness) may import the apps' entry points, which Nx otherwise forbids.
 */
function boundaries({ tests }) {
  const withTesting = (tags) => (tests ? [...tags, 'type:testing'] : tags);
  return {
    enforceBuildableLibDependency: false,
    allow: ['@capstan/api', '@capstan/worker', '@capstan/sla-monitor', '@capstan/simulator'],
    depConstraints: [
      { sourceTag: 'type:domain', onlyDependOnLibsWithTags: withTesting(['type:domain']), bannedExternalImports: tests ? [] : frameworkAndIo },
      { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: withTesting(['type:domain']), bannedExternalImports: tests ? [] : frameworkAndIo },
      { sourceTag: 'type:platform', onlyDependOnLibsWithTags: withTesting(['type:domain', 'type:contracts']) },
      { sourceTag: 'type:feature', onlyDependOnLibsWithTags: withTesting(['type:domain', 'type:platform', 'type:contracts', 'type:feature']) },
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: withTesting(['type:domain', 'type:platform', 'type:contracts', 'type:feature']) },
      { sourceTag: 'type:launcher', onlyDependOnLibsWithTags: ['type:app', 'type:platform', 'type:domain', 'type:feature'] },
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['*'] },
    ],
  };
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'dist/**', '**/generated/**', 'coverage/**', '.nx/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Not consistent-type-imports: Nest resolves constructor parameters from decorator metadata,
      // which needs value imports of classes that look type-only to the rule.
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read settings through the validated config in libs/platform/config, not process.env.' },
      ],
      '@nx/enforce-module-boundaries': ['error', boundaries({ tests: false })],
    },
  },
  {
    // Tests may use the shared harness in libs/testing.
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries({ tests: true })] },
  },
  {
    // Configuration is the one place that reads the environment; tests and tooling set it up.
    files: ['libs/platform/src/config/**/*.ts', 'libs/testing/**/*.ts', '**/*.spec.ts', '**/test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'prisma.config.ts', 'apps/launcher/**/*.ts', 'apps/simulator/src/config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
