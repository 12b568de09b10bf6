// @ts-check
// Plain CommonJS, not TypeScript: the service imports it like any module (allowJs compiles it
// into dist/src), and the scripts (scripts/lib/postgres.js) require it from the source tree
// without a build. One reader of postmaster.pid for both.
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
