// Lint is a colleague: the async-safety rules are errors because a floating promise in a stream consumer
// loses data silently; module boundaries keep the domain pure and the apps at the edges.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const ioPackages = [
  'node:*',
  'fs',
  'fs/*',
  'net',
  'http',
  'https',
  'child_process',
  'pg',
  'kysely',
  'ioredis',
  'nats',
  '@nestjs/*',
  'pino',
  'prom-client',
  'testcontainers',
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '.nx/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      // One program over every source and test file (tsconfig.spec.json maps @lorekeeper/* to sources).
      parserOptions: { project: './tsconfig.spec.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
    },
  },
  {
    // Tests may use the test helpers (@lorekeeper/testing), which stand on the libs they test. The
    // libs declare `implicitDependencies: ["!testing"]`, so those spec-only edges stay out of the graph.
    files: ['**/*.spec.ts', '**/src/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries(true)] },
  },
  {
    files: ['**/*.spec.ts', 'libs/testing/**/*.ts', 'bench/**/*.ts', '**/src/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Tests read arbitrary JSON replies field by field.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  prettier,
);

/** Module boundaries by tag; `forTests` lets spec files import the test helpers. */
function boundaries(forTests) {
  const testing = forTests ? ['type:testing'] : [];
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    // A spec importing the test helpers closes a loop (lib spec -> testing -> lib) that exists only in tests.
    ignoredCircularDependencies: forTests
      ? ['domain', 'config', 'pg-store', 'redis-store', 'protocol', 'migrations'].map((lib) => [
          lib,
          'testing',
        ])
      : [],
    depConstraints: [
      // The domain is pure: no I/O, and it stands on nothing but itself.
      {
        sourceTag: 'type:domain',
        onlyDependOnLibsWithTags: ['type:domain'],
        bannedExternalImports: ioPackages,
      },
      { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
      { sourceTag: 'type:protocol', onlyDependOnLibsWithTags: ['type:domain', 'type:protocol'] },
      {
        sourceTag: 'type:data-access',
        onlyDependOnLibsWithTags: ['type:domain', 'type:protocol', 'type:util', 'type:data-access'],
      },
      { sourceTag: 'type:client', onlyDependOnLibsWithTags: ['type:domain', 'type:protocol'] },
      {
        sourceTag: 'type:testing',
        onlyDependOnLibsWithTags: ['type:domain', 'type:protocol', 'type:util', 'type:data-access'],
      },
      // Apps are leaves: they compose libs and nothing imports them.
      {
        sourceTag: 'type:app',
        onlyDependOnLibsWithTags: [
          'type:domain',
          'type:protocol',
          'type:util',
          'type:data-access',
          'type:client',
        ],
      },
      // Benchmarks drive the whole system and may use the test helpers to set it up.
      {
        sourceTag: 'type:tool',
        onlyDependOnLibsWithTags: [
          'type:domain',
          'type:protocol',
          'type:util',
          'type:data-access',
          'type:client',
          'type:testing',
        ],
      },
      { sourceTag: 'scope:bench', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'scope:session-service', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'scope:persistence-worker', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'scope:sim', onlyDependOnLibsWithTags: ['scope:shared'] },
    ].map((constraint) =>
      constraint.onlyDependOnLibsWithTags && constraint.sourceTag.startsWith('type:')
        ? { ...constraint, onlyDependOnLibsWithTags: [...constraint.onlyDependOnLibsWithTags, ...testing] }
        : constraint,
    ),
  };
}
