// npm run test:ui: Swagger UI in a real browser, used as a person would. Starts the service on
// a fresh database, opens /docs in headless Chromium (Debian's `chromium` package, driven by
// playwright-core) and goes down the page: every operation, in page order, is expanded, put in
// "Try it out" and executed with exactly what the page pre-fills (for a request body with a
// drop-down of examples, each example in turn). Each must show its documented success status.
// Along the way it checks that optional query parameters and Idempotency-Key start empty, and
// that GET /transactions/{transactionId} was filled in from the last movement the page executed
// (the document's OpenAPI links). At the end it asks the service directly for the balances the
// page's examples promise. A screenshot of every operation goes to test-results/ui/ (ignored by
// git). Without Chromium it fails, saying so: it never passes without having run the browser.
//
//   npm run test:ui
//   BASE_URL=http://localhost:3000 npm run test:ui     # against a running service (fresh DB!)
//   CHROMIUM_PATH=/path/to/chromium npm run test:ui   # another Chromium binary
/* global fetch, AbortSignal -- Node >= 18 globals */
const { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { chromium } = require('playwright-core');
const { withService, ROOT } = require('../../scripts/lib/service');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const RESULTS = join(ROOT, 'test-results', 'ui');
const TIMEOUT_MS = 90_000;
/** Without the background-networking flags Chromium dials out, and a closed network refuses it. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
/** What the page's examples leave behind (see the OpenAPI description): checked at the end. */
const EXPECTED_BALANCES = { 'acc-alice': 6500, 'acc-bob': 2000 };

function step(message) {
  console.log(`[ui] ${message}`);
}

/** Executes the operation as it stands and returns the status and body the page shows. */
async function execute(operation) {
  const clear = operation.locator('button.btn-clear');
  if (await clear.count()) await clear.first().click();
  const live = operation.locator('.live-responses-table tbody tr.response').first();
  await live.waitFor({ state: 'detached' }).catch(() => undefined);
  await operation.locator('button.execute').click();
  await live.waitFor();
  const status = (await live.locator('.response-col_status').innerText()).trim();
  const shown = await live.locator('.response-col_description pre').first().innerText();
  return { status, shown };
}

/** The documented success status (the 2xx row of the operation's responses table). */
async function documentedSuccess(operation) {
  const codes = await operation
    .locator('table.responses-table:not(.live-responses-table) tr.response')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-code')));
  const success = codes.filter((code) => /^2\d\d$/.test(code ?? ''));
  if (success.length !== 1) throw new Error(`documented success statuses: ${success.join(', ')}`);
  return success[0];
}

/** Optional query inputs and Idempotency-Key must start empty (nothing shared, nothing stale). */
async function checkEmptyInputs(operation, name) {
  const rows = operation.locator('table.parameters tr[data-param-name]');
  for (const row of await rows.all()) {
    const param = await row.getAttribute('data-param-name');
    const where = await row.getAttribute('data-param-in');
    const required = (await row.locator('.parameter__name.required').count()) > 0;
    const input = row.locator('input').first();
    if (required || !(await input.count())) continue;
    const value = await input.inputValue();
    if ((where === 'query' || param === 'Idempotency-Key') && value !== '') {
      throw new Error(
        `${name}: optional ${where} parameter ${param} is pre-filled with "${value}"`,
      );
    }
  }
}

async function pathValue(operation, param) {
  return operation.locator(`tr[data-param-name="${param}"] input`).first().inputValue();
}

async function checkSwaggerUi(baseUrl) {
  const profile = mkdtempSync(join(tmpdir(), 'ledger-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 1000 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT_MS);
  const pageErrors = [];
  page.on('pageerror', (error) => {
    pageErrors.push(error.message);
    console.warn(`[ui] page error: ${error.message}`);
  });
  try {
    step(`opening ${baseUrl}/docs`);
    await page.goto(`${baseUrl}/docs`, { waitUntil: 'load', timeout: TIMEOUT_MS });
    await page
      .locator('.swagger-ui .info .title')
      .filter({ hasText: 'Banking Ledger API' })
      .waitFor();
    await page.locator('.opblock').first().waitFor();

    const ids = await page.locator('.opblock').evaluateAll((blocks) => blocks.map((b) => b.id));
    step(`${ids.length} operations on the page`);
    if (ids.length < 14) throw new Error(`only ${ids.length} operations on the page`);

    let lastTransactionId;
    let executed = 0;
    for (const [index, id] of ids.entries()) {
      const operation = page.locator(`#${id}`);
      const name =
        (await operation.locator('.opblock-summary-method').innerText()).trim() +
        ' ' +
        (await operation.locator('.opblock-summary-path').getAttribute('data-path'));
      await operation.locator('.opblock-summary').first().click();
      await operation.locator('button.try-out__btn').click();
      await operation.locator('button.execute').waitFor();
      await checkEmptyInputs(operation, name);
      const success = await documentedSuccess(operation);

      if (name === 'GET /transactions/{transactionId}') {
        // Filled in from the last movement executed above (OpenAPI link), not the example.
        const filled = await pathValue(operation, 'transactionId');
        if (!lastTransactionId || filled !== lastTransactionId) {
          throw new Error(
            `transactionId is "${filled}", not the last movement's ${lastTransactionId}`,
          );
        }
      }

      // A body with a drop-down of examples: each one, as a person reading them would.
      const select = operation.locator('.opblock-section-request-body .examples-select select');
      const examples = (await select.count())
        ? await select.locator('option').evaluateAll((options) => options.map((o) => o.value))
        : [undefined];
      for (const example of examples) {
        if (example !== undefined) await select.selectOption(example);
        const { status, shown } = await execute(operation);
        executed++;
        const label = example === undefined ? name : `${name} (example ${example})`;
        await operation.scrollIntoViewIfNeeded();
        await operation.screenshot({
          path: join(
            RESULTS,
            `${String(index + 1).padStart(2, '0')}-${id}${example ? `-${example}` : ''}.png`,
          ),
        });
        if (status !== success) {
          throw new Error(`${label}: Swagger UI shows ${status}, documented ${success}:\n${shown}`);
        }
        step(`${label}: ${status}`);
        if (/^application\/json|^\{/.test(shown.trim())) {
          const body = JSON.parse(shown);
          if (typeof body.transactionId === 'string') lastTransactionId = body.transactionId;
        }
      }
      if (name === 'POST /accounts') {
        await page.screenshot({ path: join(RESULTS, 'swagger-ui-post-accounts.png') });
      }
      // Collapse again so the page stays short and the next block is where a person finds it.
      await operation.locator('.opblock-summary').first().click();
    }
    await page.screenshot({ path: join(RESULTS, 'swagger-ui-page.png'), fullPage: true });
    if (pageErrors.length > 0) throw new Error(`page errors: ${pageErrors.join('; ')}`);

    // What the page showed is what the service did.
    for (const [account, expected] of Object.entries(EXPECTED_BALANCES)) {
      const res = await fetch(`${baseUrl}/accounts/${account}/balance`, {
        signal: AbortSignal.timeout(30_000),
      });
      const body = await res.json();
      if (res.status !== 200 || body.balance !== expected) {
        throw new Error(`${account}: ${res.status} ${JSON.stringify(body)}, expected ${expected}`);
      }
    }
    step(`executed ${executed} requests; the service holds ${JSON.stringify(EXPECTED_BALANCES)}`);
  } catch (error) {
    await page
      .screenshot({ path: join(RESULTS, 'swagger-ui-failure.png'), fullPage: true })
      .then(() => console.error(`[ui] screenshot: ${join(RESULTS, 'swagger-ui-failure.png')}`))
      .catch(() => undefined);
    throw error;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

async function main() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}, so Swagger UI cannot be checked. ` +
        'Install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH.',
    );
  }
  mkdirSync(RESULTS, { recursive: true });
  for (const file of readdirSync(RESULTS)) {
    if (file.endsWith('.png')) rmSync(join(RESULTS, file), { force: true });
  }
  await withService('ui', {}, checkSwaggerUi);
  console.log(`\nSwagger UI check passed; screenshots in ${RESULTS}`);
}

main().catch((error) => {
  console.error(`\ntest:ui FAILED: ${error.message}`);
  process.exit(1);
});
