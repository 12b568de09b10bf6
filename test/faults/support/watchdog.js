/**
 * Preloaded (`node --require`) into every service process a fault test starts: when the test
 * run that spawned it dies without cleaning up, the service kills itself instead of living on
 * as an orphan holding a port and database connections. Test-only; the service is unchanged.
 */
const parent = process.ppid;
globalThis
  .setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
  }, 1000)
  .unref();
