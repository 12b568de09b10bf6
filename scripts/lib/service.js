// Starts the real service (the same compiled main.js as `npm start`) on a fresh embedded
// PostgreSQL for a client check (Postman/newman, Swagger UI), and always stops it again.
//
// - Builds into a private directory under dist/ (dist/.clients-<pid>), so a check never runs a
//   stale build and never rewrites the dist/src files another process may be running.
// - Fresh database: EMBEDDED_PG_DIR is a new temp dir, removed afterwards; DATABASE_URL is
//   dropped from the child's environment.
// - Ports: CHECK_PORT / CHECK_PG_PORT when set, else free ports chosen by the OS.
// - Ready means GET /health = 200, within STARTUP_DEADLINE_MS; the service exiting first is
//   reported with the tail of its log.
// - Stop: SIGTERM, then SIGKILL after STOP_DEADLINE_MS; a PostgreSQL left behind by a killed
//   service is stopped through the pid in its postmaster.pid. Also on Ctrl-C and on errors.
/* global fetch, AbortSignal, setTimeout -- Node globals */
const { spawn, spawnSync } = require('node:child_process');
const {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..', '..');
const STARTUP_DEADLINE_MS = 240_000;
const STOP_DEADLINE_MS = 30_000;

function log(message) {
  console.log(`[service] ${message}`);
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function portFromEnv(name) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return freePort();
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name}=${raw}`);
  return port;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** tsc into dist/.clients-<pid>; returns the path of main.js. */
function build() {
  const outDir = join(ROOT, 'dist', `.clients-${process.pid}`);
  log(`building into ${outDir}`);
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(
    process.execPath,
    [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (result.status !== 0) throw new Error(`build failed (tsc exit ${result.status})`);
  return { outDir, main: join(outDir, 'src', 'main.js') };
}

async function waitForHealth(baseUrl, child, logFile) {
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the service exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n` +
          tail(logFile),
      );
    }
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) return;
      last = `GET /health answered ${res.status}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await sleep(500);
  }
  throw new Error(
    `the service was not healthy within ${STARTUP_DEADLINE_MS / 1000} s (${last}):\n` +
      tail(logFile),
  );
}

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no service log)';
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = sleep(STOP_DEADLINE_MS).then(() => 'timeout');
  if ((await Promise.race([exited, timer])) === 'timeout') {
    log(`no exit ${STOP_DEADLINE_MS / 1000} s after SIGTERM: SIGKILL`);
    child.kill('SIGKILL');
    await exited;
  }
}

/** The postmaster a killed service could leave behind; the pid is this run's own cluster. */
async function stopLeftoverPostgres(dataDir) {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0], 10);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  log(`stopping the PostgreSQL (pid ${pid}) the service left running`);
  process.kill(pid, 'SIGINT'); // fast shutdown
  const deadline = Date.now() + STOP_DEADLINE_MS;
  while (alive(pid) && Date.now() < deadline) await sleep(250);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * Runs `check(baseUrl)` against a freshly started service and stops the service afterwards,
 * whatever happens. `name` names the log folder: test-results/<name>/service.log.
 * With BASE_URL set, no service is started: the check runs against that server.
 */
async function withService(name, env, check) {
  if (process.env.BASE_URL) {
    log(`BASE_URL is set: using the running service at ${process.env.BASE_URL}`);
    return check(process.env.BASE_URL.replace(/\/+$/, ''));
  }
  const resultsDir = join(ROOT, 'test-results', name);
  mkdirSync(resultsDir, { recursive: true });
  const logFile = join(resultsDir, 'service.log');
  const { outDir, main } = build();
  const pgRoot = mkdtempSync(join(tmpdir(), `ledger-${name}-pg-`));
  // As root the cluster runs as the `postgres` user, which must be able to enter the dir.
  chmodSync(pgRoot, 0o755);
  const dataDir = join(pgRoot, 'data');
  let child;
  const cleanup = async () => {
    if (child) await stopChild(child);
    await stopLeftoverPostgres(dataDir);
    rmSync(pgRoot, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  };
  const onSignal = (signal) => {
    log(`${signal}: stopping the service`);
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const port = await portFromEnv('CHECK_PORT');
    const pgPort = await portFromEnv('CHECK_PG_PORT');
    const childEnv = {
      ...process.env,
      PORT: String(port),
      EMBEDDED_PG_DIR: dataDir,
      EMBEDDED_PG_PORT: String(pgPort),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      ...env,
    };
    delete childEnv.DATABASE_URL;
    const out = createWriteStream(logFile);
    log(`starting on port ${port} (PostgreSQL on ${pgPort}, data in ${dataDir}); log: ${logFile}`);
    child = spawn(process.execPath, [main], { cwd: ROOT, env: childEnv, stdio: 'pipe' });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHealth(baseUrl, child, logFile);
    log(`healthy at ${baseUrl}`);
    return await check(baseUrl);
  } catch (error) {
    if (child) console.error(`[service] last lines of ${logFile}:\n${tail(logFile, 15)}`);
    throw error;
  } finally {
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    log('stopped');
  }
}

module.exports = { withService, ROOT };
