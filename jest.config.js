// One jest run over the whole workspace, split by the kind of test (STYLE.md): `*.spec.ts` is pure,
// `*.int.spec.ts` talks to real Redis/Postgres/NATS, `*.e2e.spec.ts` runs built processes, and
// `*.faults.spec.ts` breaks them on purpose (run apart: `npm run test:faults`).
const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }] },
  moduleNameMapper: {
    '^@lorekeeper/migrations$': '<rootDir>/migrations/src/index.ts',
    '^@lorekeeper/((?!migrations).*)$': '<rootDir>/libs/$1/src/index.ts',
  },
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

// Finds (or starts) Redis, Postgres and NATS once and hands their URLs to every worker.
const globalSetup = '<rootDir>/libs/testing/src/global-setup.ts';

/** @type {import('jest').Config} */
module.exports = {
  // Integration and e2e tests start real services and processes. (Jest reads this one only at the root.)
  testTimeout: 60_000,
  projects: [
    { ...shared, displayName: 'unit', testRegex: '(?<!\\.int|\\.e2e|\\.faults)\\.spec\\.ts$' },
    { ...shared, displayName: 'integration', testRegex: '\\.int\\.spec\\.ts$', globalSetup },
    { ...shared, displayName: 'e2e', testRegex: '\\.e2e\\.spec\\.ts$', globalSetup },
    // The failure model as a suite (`npm run test:faults`): kills, restarts, fuzzing, soak. Each test
    // writes its figures under results/faults/ (libs/testing figures.ts).
    { ...shared, displayName: 'faults', testRegex: '\\.faults\\.spec\\.ts$', globalSetup },
  ],
};
