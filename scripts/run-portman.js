// npm run test:contract: contract tests GENERATED from the served OpenAPI document by an outside
// tool, Portman (@apideck/portman), then run with newman against the same service. Starts the
// built service on a fresh database (scripts/lib/service.js), downloads /docs-json, has Portman
// turn it into a Postman collection with a contract test per operation (status, content type,
// JSON body, JSON schema of the response, documented required headers), and runs it in page
// order. Exits 1 on any failed assertion, any request error, or a run that executed fewer
// requests or assertions than the generated collection holds. Offline: nothing is fetched but
// the service's own document.
//
//   npm run test:contract
//   BASE_URL=http://localhost:3000 npm run test:contract   # against a running service (fresh DB!)
//
// What was configured, and why: test/contract/portman-config.json (its "_why" fields).
// Reports in test-results/contract/: openapi.json, collection.json, newman.xml (JUnit).
/* global fetch, AbortSignal -- Node >= 18 globals */
const { spawnSync } = require('node:child_process');
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { countRequests, runCollection } = require('./lib/newman');
const { withService, ROOT } = require('./lib/service');

const RESULTS = join(ROOT, 'test-results', 'contract');
const CONFIG_DIR = join(ROOT, 'test', 'contract');
const PORTMAN = require.resolve('@apideck/portman/bin/portman');

/** Portman's generated tests: the `pm.test(` calls in the collection's test scripts. */
function countTests(items) {
  return items.reduce((n, item) => {
    if (item.item) return n + countTests(item.item);
    const scripts = (item.event ?? []).filter((e) => e.listen === 'test');
    const source = scripts.flatMap((e) => e.script?.exec ?? []).join('\n');
    return n + (source.match(/pm\.test\(/g) ?? []).length;
  }, 0);
}

async function generate(baseUrl) {
  mkdirSync(RESULTS, { recursive: true });
  const res = await fetch(`${baseUrl}/docs-json`, { signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`GET /docs-json answered ${res.status}`);
  const spec = join(RESULTS, 'openapi.json');
  writeFileSync(spec, JSON.stringify(await res.json(), null, 2));
  const output = join(RESULTS, 'collection.json');
  const args = [
    PORTMAN,
    '--local',
    spec,
    '--baseUrl',
    baseUrl,
    '--portmanConfigFile',
    join(CONFIG_DIR, 'portman-config.json'),
    '--postmanConfigFile',
    join(CONFIG_DIR, 'postman-config.json'),
    '--output',
    output,
    '--includeTests',
    'true',
    '--logAssignVariables',
    'false',
  ];
  console.log(`[contract] portman ${args.slice(1).join(' ')}`);
  const run = spawnSync(process.execPath, args, {
    cwd: RESULTS,
    stdio: 'inherit',
    timeout: 300_000,
  });
  if (run.status !== 0) throw new Error(`portman exited with ${run.status ?? run.signal}`);
  return JSON.parse(readFileSync(output, 'utf8'));
}

function runNewman(collection) {
  const tests = countTests(collection.item);
  console.log(`[contract] generated: ${countRequests(collection.item)} requests, ${tests} tests`);
  return runCollection({
    collection,
    junit: join(RESULTS, 'newman.xml'),
    minAssertions: tests,
  });
}

async function main() {
  // The generated requests register the documented webhook endpoint (a public documentation
  // address): with the delivery worker off, nothing is ever sent off this machine.
  const env = { WEBHOOK_WORKER_INTERVAL_MS: '0' };
  const stats = await withService('contract', env, async (baseUrl) =>
    runNewman(await generate(baseUrl)),
  );
  console.log(
    `\nGenerated contract tests passed: ${stats.requests.total} requests, ` +
      `${stats.assertions.total} assertions.`,
  );
}

main().catch((error) => {
  console.error(`\ntest:contract FAILED: ${error.message}`);
  process.exit(1);
});
