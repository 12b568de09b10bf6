// What a PostgreSQL data directory says about its server, shared by the fault tests' clusters
// and the client checks' launcher (src/database/embedded-postgres.ts has the service's own).
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

/**
 * The pid of the postmaster running on `dataDir` (from its postmaster.pid), or undefined when
 * there is none or it is no longer alive.
 * @param {string} dataDir
 * @returns {number | undefined}
 */
function runningPostmasterPid(dataDir) {
  const file = join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

module.exports = { runningPostmasterPid };
