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
const { spawnSync } = require('node:child_process');
const { chmodSync, mkdirSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { freePort } = require('./net');
const { runningPostmasterPid } = require('./postgres');
const { ServiceProcess } = require('./service-process');
const { waitFor } = require('./wait');

const ROOT = resolve(__dirname, '..', '..');
const STARTUP_DEADLINE_MS = 240_000;
const STOP_DEADLINE_MS = 30_000;

function log(message) {
  console.log(`[service] ${message}`);
}

async function portFromEnv(name) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return freePort();
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name}=${raw}`);
  return port;
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

/** The postmaster a killed service could leave behind; the pid is this run's own cluster. */
async function stopLeftoverPostgres(dataDir) {
  const pid = runningPostmasterPid(dataDir);
  if (pid === undefined) return;
  log(`stopping the PostgreSQL (pid ${pid}) the service left running`);
  process.kill(pid, 'SIGINT'); // fast shutdown
  try {
    const stopped = () => (runningPostmasterPid(dataDir) === pid ? undefined : true);
    await waitFor('the PostgreSQL to stop', stopped, {
      timeoutMs: STOP_DEADLINE_MS,
      intervalMs: 250,
    });
  } catch {
    process.kill(pid, 'SIGKILL');
  }
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
  let service;
  const cleanup = async () => {
    if (service) {
      const exit = await service.stop(STOP_DEADLINE_MS);
      if (exit.signal === 'SIGKILL')
        log(`no exit ${STOP_DEADLINE_MS / 1000} s after SIGTERM: killed`);
    }
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
      EMBEDDED_PG_DIR: dataDir,
      EMBEDDED_PG_PORT: String(pgPort),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      ...env,
    };
    delete childEnv.DATABASE_URL;
    log(`starting on port ${port} (PostgreSQL on ${pgPort}, data in ${dataDir}); log: ${logFile}`);
    service = await ServiceProcess.start({
      main,
      cwd: ROOT,
      port,
      env: childEnv,
      logFile,
      healthTimeoutMs: STARTUP_DEADLINE_MS,
    });
    log(`healthy at ${service.baseUrl}`);
    return await check(service.baseUrl);
  } catch (error) {
    if (service) console.error(`[service] last lines of ${logFile}:\n${service.logs(15)}`);
    throw error;
  } finally {
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    log('stopped');
  }
}

module.exports = { withService, ROOT };
