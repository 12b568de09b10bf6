// npm run test:ui: Swagger UI in a real browser. Starts the service on a fresh database, opens
// /docs in headless Chromium (Debian's `chromium` package, driven by playwright-core), expands
// POST /accounts, uses "Try it out" to create an account with a unique id, and asserts the 201
// response Swagger UI shows, then that the account really exists. Screenshots go to
// test-results/ui/ (ignored by git). Without Chromium it fails, saying so: it never passes
// without having run the browser.
//
//   npm run test:ui
//   BASE_URL=http://localhost:3000 npm run test:ui     # against a running service
//   CHROMIUM_PATH=/path/to/chromium npm run test:ui   # another Chromium binary
/* global fetch, AbortSignal -- Node >= 18 globals */
const { existsSync, mkdirSync, mkdtempSync, rmSync } = require('node:fs');
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
const OPERATION = '#operations-accounts-AccountsController_create';

function step(message) {
  console.log(`[ui] ${message}`);
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
  page.on('pageerror', (error) => console.warn(`[ui] page error: ${error.message}`));
  const accountId = `ui-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    step(`opening ${baseUrl}/docs`);
    await page.goto(`${baseUrl}/docs`, { waitUntil: 'load', timeout: TIMEOUT_MS });
    await page
      .locator('.swagger-ui .info .title')
      .filter({ hasText: 'Banking Ledger API' })
      .waitFor();

    step('expanding POST /accounts');
    const operation = page.locator(OPERATION);
    await operation.locator('.opblock-summary').first().click();
    await operation.locator('button.try-out__btn').click();

    // The Idempotency-Key field must start empty: a pre-filled key would be shared by every
    // user of the page (their requests would replay each other's answers).
    const keyInput = operation.locator('tr[data-param-name="Idempotency-Key"] input');
    const prefilled = await keyInput.inputValue();
    if (prefilled !== '') throw new Error(`Swagger UI pre-fills Idempotency-Key with ${prefilled}`);

    step(`"Try it out" with accountId ${accountId}`);
    const body = { accountId, currency: 'USD', initialDeposit: 1234 };
    const textarea = operation.locator('textarea.body-param__text');
    await textarea.fill(JSON.stringify(body, null, 2));
    await operation.locator('button.execute').click();

    step('waiting for the response Swagger UI shows');
    const response = operation.locator('.live-responses-table tbody tr.response').first();
    await response.waitFor();
    const status = (await response.locator('.response-col_status').innerText()).trim();
    const shown = await response.locator('.response-col_description pre').first().innerText();
    await response.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(RESULTS, 'swagger-ui-post-accounts.png'), fullPage: false });
    await operation.screenshot({ path: join(RESULTS, 'swagger-ui-post-accounts-operation.png') });

    if (status !== '201') throw new Error(`Swagger UI shows status ${status}, expected 201`);
    const created = JSON.parse(shown);
    const expected = { accountId, currency: 'USD', balance: 1234 };
    for (const [key, value] of Object.entries(expected)) {
      if (created[key] !== value) {
        throw new Error(`Swagger UI shows ${key}=${JSON.stringify(created[key])}, not ${value}`);
      }
    }
    step(`Swagger UI shows 201 with accountId ${created.accountId}`);

    // What the page showed is what the service did.
    const res = await fetch(`${baseUrl}/accounts/${accountId}`, {
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 200) throw new Error(`GET /accounts/${accountId} answered ${res.status}`);
    const account = await res.json();
    if (account.balance !== 1234) throw new Error(`the account holds ${account.balance}`);
    step('the service has the account the page created');
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
  rmSync(join(RESULTS, 'swagger-ui-failure.png'), { force: true });
  await withService('ui', {}, checkSwaggerUi);
  console.log(`\nSwagger UI check passed; screenshots in ${RESULTS}`);
}

main().catch((error) => {
  console.error(`\ntest:ui FAILED: ${error.message}`);
  process.exit(1);
});
