/**
 * Lists every skipped test by name after Jest's summary, so a skip is read where the run's
 * result is read, not in a warning scrolled away above it. Quiet when `-t` filters the run
 * (everything filtered out counts as skipped then).
 */
const { relative } = require('node:path');

class SkippedTestsReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.filtered = Boolean(globalConfig.testNamePattern);
  }

  onRunComplete(_contexts, results) {
    if (this.filtered) return;
    const skipped = [];
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (test.status === 'pending' || test.status === 'skipped' || test.status === 'todo') {
          skipped.push(`  ○ ${relative(this.rootDir, file.testFilePath)} › ${test.fullName}`);
        }
      }
    }
    if (skipped.length > 0) {
      process.stderr.write(`\nSkipped tests (${skipped.length}):\n${skipped.join('\n')}\n`);
    }
  }
}

module.exports = SkippedTestsReporter;
