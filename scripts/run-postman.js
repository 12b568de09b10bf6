// npm run test:postman: runs the Postman collection with newman against a freshly started
// service on a fresh database, then stops the service. Exits 1 on any failed assertion, any
// request error, or a run that executed fewer requests than the collection holds.
//
//   npm run test:postman                                      # build, start, run, stop
//   BASE_URL=http://localhost:3000 npm run test:postman       # against a running service
//
// Reports: the CLI summary, and JUnit XML in test-results/postman/newman.xml for CI.
const { join } = require('node:path');
const { runCollection } = require('./lib/newman');
const { withService, ROOT } = require('./lib/service');

const COLLECTION = join(ROOT, 'postman', 'banking-ledger-api.postman_collection.json');
const ENVIRONMENT = join(ROOT, 'postman', 'banking-ledger-api.postman_environment.json');

/** The cashback settings the collection's payment assertions use, set on the service too. */
const CASHBACK = { CASHBACK_RATE_BPS: '200', CASHBACK_DELAY_MS: '86400000' };

function runNewman(baseUrl) {
  return runCollection({
    collection: require(COLLECTION),
    environment: require(ENVIRONMENT),
    envVar: [
      { key: 'baseUrl', value: baseUrl },
      { key: 'cashbackRateBps', value: CASHBACK.CASHBACK_RATE_BPS },
      { key: 'cashbackDelayMs', value: CASHBACK.CASHBACK_DELAY_MS },
    ],
    junit: join(ROOT, 'test-results', 'postman', 'newman.xml'),
  });
}

async function main() {
  const stats = await withService('postman', CASHBACK, runNewman);
  console.log(
    `\nPostman collection passed: ${stats.requests.total} requests, ` +
      `${stats.assertions.total} assertions.`,
  );
}

main().catch((error) => {
  console.error(`\ntest:postman FAILED: ${error.message}`);
  process.exit(1);
});
