import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

const frameworkAndIo = ['@nestjs/*', '@prisma/*', 'prisma', 'bullmq', 'ioredis', 'pg', 'fastify', 'nestjs-*', '@kubernetes/*', '@google-cloud/*'];

/**
 * Layering (docs/architecture.md, Layers): domain at the bottom; platform and contracts above it;
 * then the core services (tenancy, events, providers), which may use each other's public index;
 * then the engine (operations); the features (clusters, sla, ...), never importing each other;
 * above them composition, which binds one feature's port to another's public functions and is
 * imported by apps alone. Apps compose libraries; only the launcher (which runs the apps in one
 * process) and the test harness may import an app's entry point.
 */
const below = {
  'layer:domain': [],
  'layer:contracts': ['layer:domain'],
  'layer:platform': ['layer:domain', 'layer:contracts'],
  'layer:core': ['layer:domain', 'layer:contracts', 'layer:platform', 'layer:core'],
  'layer:engine': ['layer:domain', 'layer:contracts', 'layer:platform', 'layer:core'],
  'layer:feature': ['layer:domain', 'layer:contracts', 'layer:platform', 'layer:core', 'layer:engine'],
  'layer:composition': ['layer:domain', 'layer:contracts', 'layer:platform', 'layer:core', 'layer:engine', 'layer:feature'],
  'layer:app': ['layer:domain', 'layer:contracts', 'layer:platform', 'layer:core', 'layer:engine', 'layer:feature', 'layer:composition'],
  // The CLI talks to the API over HTTP only: the SDK (contracts layer) and nothing of the server.
  'layer:cli': ['layer:contracts'],
};
const apps = ['@capstan/api', '@capstan/worker', '@capstan/sla-monitor', '@capstan/simulator'];

function boundaries({ tests, importsApps = false }) {
  const withTesting = (tags) => (tests ? [...tags, 'layer:testing'] : tags);
  const pure = (tag) => (tests || !['layer:domain', 'layer:contracts'].includes(tag) ? {} : { bannedExternalImports: frameworkAndIo });
  return {
    enforceBuildableLibDependency: false,
    allow: importsApps || tests ? apps : [],
    depConstraints: [
      ...Object.entries(below).map(([sourceTag, tags]) => ({
        sourceTag,
        onlyDependOnLibsWithTags: withTesting(tags.length > 0 ? tags : [sourceTag]),
        ...pure(sourceTag),
      })),
      { sourceTag: 'layer:launcher', onlyDependOnLibsWithTags: ['layer:app', 'layer:platform', 'layer:domain', 'layer:core', 'layer:feature'] },
      { sourceTag: 'layer:testing', onlyDependOnLibsWithTags: ['*'] },
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
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read settings through the validated config in libs/platform/config, not process.env.',
        },
      ],
      '@nx/enforce-module-boundaries': ['error', boundaries({ tests: false })],
    },
  },
  {
    // The launcher runs the apps in one process; the harness starts them for tests.
    files: ['apps/launcher/**/*.ts', 'libs/testing/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries({ tests: false, importsApps: true })] },
  },
  {
    // Tests may use the shared harness in libs/testing.
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries({ tests: true })] },
  },
  {
    // Configuration is the one place that reads the environment; tests and tooling set it up.
    files: [
      'libs/platform/src/config/**/*.ts',
      'libs/testing/**/*.ts',
      '**/*.spec.ts',
      '**/test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
      'prisma.config.ts',
      'apps/launcher/**/*.ts',
      'apps/simulator/src/config.ts',
      'apps/cli/src/main.ts',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
