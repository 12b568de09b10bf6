/* global setTimeout, clearTimeout */
// The built service (`node dist/src/main.js`) as a child process, the way it runs in
// production: the one launcher behind the fault tests (test/faults), the bench (bench/) and
// the client checks (scripts/lib/service.js: Postman/newman, Swagger UI).
const { spawn } = require('node:child_process');
const { closeSync, openSync, readFileSync } = require('node:fs');
const { get } = require('node:http');
const { waitFor } = require('./wait');

const KEPT_LINES = 200;

/**
 * @typedef {object} Exit
 * @property {number | null} code
 * @property {NodeJS.Signals | null} signal
 * @property {number} at Date.now() when the process was seen to exit
 */

/**
 * @typedef {object} StartOptions
 * @property {string} main path of the compiled main.js
 * @property {string} cwd
 * @property {number} port the PORT the service listens on (127.0.0.1 is probed)
 * @property {Record<string, string | undefined>} env the child's whole environment (PORT is set from `port`)
 * @property {string[]} [nodeArgs] node options before `main`, e.g. ['--require', preload]
 * @property {string} [logFile] stdout and stderr go straight into this file (no pipe through
 *   this process, which matters under load); without it the output is kept in memory
 * @property {(line: string) => void} [onLine] each output line, when there is no logFile
 * @property {number} [healthTimeoutMs] how long start() waits for GET /health = 200 (default 120 s)
 */

/**
 * GET `url` on a fresh connection (no keep-alive pool to outlive the process): its status.
 * @param {string} url
 * @param {number} timeoutMs
 * @returns {Promise<number>}
 */
function statusOf(url, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

class ServiceProcess {
  /**
   * @param {import('node:child_process').ChildProcess} child
   * @param {number} port
   * @param {string | undefined} logFile
   * @param {((line: string) => void) | undefined} onLine
   */
  constructor(child, port, logFile, onLine) {
    /** @private */ this.child = child;
    /** @readonly */ this.port = port;
    /** @private */ this.logFile = logFile;
    /** @private @type {string[]} */ this.output = [];
    /** @type {Promise<Exit>} resolves when the process has exited, however it ended */
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
      // Not started at all (no 'exit' follows): as if it had exited at once.
      child.once('error', () => {
        if (child.pid === undefined) resolve({ code: null, signal: null, at: Date.now() });
      });
    });
    let partial = '';
    /** @param {Buffer} chunk */
    const keep = (chunk) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        onLine?.(line);
        this.output.push(line);
      }
      if (this.output.length > KEPT_LINES) this.output.splice(0, this.output.length - KEPT_LINES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /**
   * Starts the service and resolves once GET /health answers 200. If it exits first or is not
   * healthy in time, it is killed and the error carries the tail of its output.
   * @param {StartOptions} options
   * @returns {Promise<ServiceProcess>}
   */
  static async start(options) {
    const env = { ...options.env, PORT: String(options.port) };
    const args = [...(options.nodeArgs ?? []), options.main];
    let child;
    if (options.logFile) {
      const fd = openSync(options.logFile, 'w');
      try {
        child = spawn(process.execPath, args, { cwd: options.cwd, env, stdio: ['ignore', fd, fd] });
      } finally {
        closeSync(fd);
      }
    } else {
      child = spawn(process.execPath, args, { cwd: options.cwd, env, stdio: 'pipe' });
    }
    const service = new ServiceProcess(child, options.port, options.logFile, options.onLine);
    try {
      await service.waitHealthy(options.healthTimeoutMs ?? 120_000);
    } catch (error) {
      await service.kill();
      const where = options.logFile ? ` (log: ${options.logFile})` : '';
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}${where}\n` +
          `--- last lines of the service's output ---\n${service.logs(40)}`,
        { cause: error },
      );
    }
    return service;
  }

  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** @returns {number} */
  get pid() {
    return /** @type {number} */ (this.child.pid);
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Resolves once GET /health answers 200; rejects at once if the process exits first.
   * @param {number} timeoutMs
   * @returns {Promise<void>}
   */
  async waitHealthy(timeoutMs) {
    const exitedFirst = this.exited.then((exit) => {
      throw new Error(`the service exited (${exit.code ?? exit.signal}) before it was healthy`);
    });
    const healthy = waitFor(
      `GET /health = 200 on ${this.baseUrl}`,
      async () => ((await statusOf(`${this.baseUrl}/health`, 5_000)) === 200 ? true : undefined),
      { timeoutMs, intervalMs: 200 },
    );
    await Promise.race([healthy, exitedFirst]);
  }

  /** @param {NodeJS.Signals} signal */
  signal(signal) {
    if (this.alive) this.child.kill(signal);
  }

  /**
   * SIGKILL, and wait for the exit.
   * @returns {Promise<Exit>}
   */
  kill() {
    this.signal('SIGKILL');
    return this.exited;
  }

  /**
   * Graceful stop: SIGTERM, then SIGKILL if it has not exited after `graceMs`.
   * @param {number} graceMs
   * @returns {Promise<Exit>}
   */
  async stop(graceMs) {
    this.signal('SIGTERM');
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    try {
      if ((await Promise.race([this.exited, late])) === 'late') return await this.kill();
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The last `lines` lines of the service's output.
   * @param {number} [lines]
   * @returns {string}
   */
  logs(lines = KEPT_LINES) {
    if (!this.logFile) return this.output.slice(-lines).join('\n');
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no service log)';
    }
  }
}

module.exports = { ServiceProcess };
