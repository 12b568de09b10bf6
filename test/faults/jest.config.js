/**
 * `npm run test:faults`: the fault tests, kept out of `npm test` (they need `npm run build`,
 * spawn real service processes and their own PostgreSQL clusters, and take minutes).
 * Same transforms and global setup as the e2e project (the in-process hostile-input test uses
 * test/support/test-app.ts). Run with --runInBand: the machine is small and the tests drive
 * real processes.
 */
const { resolve } = require('node:path');

const rootDir = resolve(__dirname, '../..');
const e2e = require('../../jest.config.js').projects.find((p) => p.displayName === 'e2e');

module.exports = {
  ...e2e,
  displayName: 'faults',
  rootDir,
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/faults/support/setup.ts'],
  testTimeout: 180000,
};
