// Polling with a deadline, shared by the tests, the fault tests, the bench and the client checks.
const { setTimeout: sleep } = require('node:timers/promises');

/**
 * @typedef {object} WaitOptions
 * @property {number} [timeoutMs] give up after this long (default 60 s)
 * @property {number} [intervalMs] pause between two probes (default 100 ms)
 */

/**
 * Polls `probe` until it returns a value other than undefined and returns that value.
 * @template T
 * @overload
 * @param {string} what what is awaited, for the error message
 * @param {() => Promise<T | undefined> | T | undefined} probe
 * @param {WaitOptions} [options]
 * @returns {Promise<T>}
 */
/**
 * Polls `check` until it returns true.
 * @overload
 * @param {() => Promise<boolean> | boolean} check
 * @param {WaitOptions & { what?: string }} [options]
 * @returns {Promise<void>}
 */
/**
 * Polls until the probe has an answer, or fails after `timeoutMs` with what was awaited (and
 * the probe's last error) in the message. A probe that throws is retried like one that has no
 * answer yet. Bounded by time, never by luck: no fixed sleep decides a test.
 *
 * @param {string | (() => unknown)} whatOrCheck
 * @param {(() => unknown) | (WaitOptions & { what?: string })} [probeOrOptions]
 * @param {WaitOptions} [maybeOptions]
 * @returns {Promise<unknown>}
 */
async function waitFor(whatOrCheck, probeOrOptions, maybeOptions) {
  if (typeof whatOrCheck !== 'string') {
    const { what = 'condition', ...options } = /** @type {WaitOptions & { what?: string }} */ (
      probeOrOptions ?? {}
    );
    await poll(what, async () => ((await whatOrCheck()) === true ? true : undefined), options);
    return undefined;
  }
  return poll(whatOrCheck, /** @type {() => unknown} */ (probeOrOptions), maybeOptions ?? {});
}

/**
 * @param {string} what
 * @param {() => unknown} probe
 * @param {WaitOptions} options
 * @returns {Promise<unknown>}
 */
async function poll(what, probe, { timeoutMs = 60_000, intervalMs = 100 }) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

module.exports = { waitFor };
