// Runs a Postman collection with newman for the client checks (test:postman, test:contract):
// the CLI summary plus JUnit XML, and a run that did less than the collection holds fails.
const newman = require('newman');

/** Requests in a collection (folders counted through). @param {any[]} items @returns {number} */
function countRequests(items) {
  return items.reduce((n, item) => n + (item.item ? countRequests(item.item) : 1), 0);
}

/**
 * Runs `collection` and resolves with newman's stats. Rejects on any failed assertion or
 * request error, when fewer of its requests ran than it holds (items run, not
 * stats.requests: a pre-request script's pm.sendRequest counts there), or when fewer than
 * `minAssertions` assertions ran.
 * @param {{ collection: any, environment?: any, envVar?: { key: string, value: string }[],
 *   junit: string, minAssertions?: number }} options
 * @returns {Promise<any>}
 */
function runCollection({ collection, environment, envVar, junit, minAssertions = 1 }) {
  const requests = countRequests(collection.item);
  return new Promise((resolveRun, reject) => {
    newman.run(
      {
        collection,
        ...(environment ? { environment } : {}),
        ...(envVar ? { envVar } : {}),
        reporters: ['cli', 'junit'],
        reporter: { junit: { export: junit } },
        timeoutRequest: 60_000,
        color: process.env.NO_COLOR ? 'off' : 'auto',
      },
      (error, summary) => {
        if (error) return reject(error);
        const { stats, failures } = summary.run;
        const problems = [];
        if (failures.length > 0) problems.push(`${failures.length} failure(s)`);
        const executed = new Set(summary.run.executions.map((e) => e.item.id)).size;
        if (executed !== requests) problems.push(`ran ${executed} of ${requests} requests`);
        if (stats.assertions.total < Math.max(1, minAssertions)) {
          problems.push(`ran ${stats.assertions.total} assertions, expected ${minAssertions}`);
        }
        if (problems.length > 0) reject(new Error(`newman: ${problems.join(', ')}`));
        else resolveRun(stats);
      },
    );
  });
}

module.exports = { countRequests, runCollection };
