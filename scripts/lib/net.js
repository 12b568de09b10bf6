/* global URL */
// Ports and database URLs, shared by the tests, the fault tests, the bench and the client checks.
const { createServer } = require('node:net');

/**
 * Whether nobody listens on `port` on 127.0.0.1 right now; with port 0, the port the OS
 * picked (else undefined).
 * @param {number} port
 * @returns {Promise<number | undefined>}
 */
function tryListen(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port nobody listens on right now on 127.0.0.1: chosen by the OS, or, with a range,
 * the first free one of `from … to` that is not in `taken`.
 * @param {number} [from]
 * @param {number} [to]
 * @param {number[]} [taken]
 * @returns {Promise<number>}
 */
async function freePort(from, to = from, taken = []) {
  if (from === undefined || to === undefined) {
    const port = await tryListen(0);
    if (port === undefined) throw new Error('the OS gave no free port');
    return port;
  }
  for (let port = from; port <= to; port++) {
    if (!taken.includes(port) && (await tryListen(port)) !== undefined) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}

/**
 * The same server and credentials as `serverUrl`, another database.
 * @param {string} serverUrl a postgres:// or postgresql:// URL
 * @param {string} database
 * @returns {string}
 */
function databaseUrl(serverUrl, database) {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

module.exports = { freePort, databaseUrl };
