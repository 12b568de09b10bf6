/**
 * The Jest run Stryker mutates against (`npm run test:mutation`): the unit project of the root
 * config, narrowed to the specs of the pure rules and money arithmetic, so one mutant costs
 * milliseconds and a whole run a few minutes. No database, no e2e.
 */
const path = require('node:path');
const root = require('../../jest.config.js');

// eslint-disable-next-line @typescript-eslint/no-unused-vars
const { displayName, ...unit } = root.projects.find((project) => project.displayName === 'unit');

module.exports = {
  ...unit,
  rootDir: path.resolve(__dirname, '../..'),
  testMatch: [
    '<rootDir>/src/ledger/engine/rules.spec.ts',
    '<rootDir>/src/ledger/engine/refunds.spec.ts',
    '<rootDir>/src/ledger/engine/controls.spec.ts',
    '<rootDir>/src/ledger/engine/holds.spec.ts',
    '<rootDir>/src/payments/cashback.spec.ts',
    '<rootDir>/src/idempotency/idempotency-key.spec.ts',
  ],
};
