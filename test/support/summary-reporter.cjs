// A jest reporter that writes the run's totals to test-results/jest-summary.json (or the `file` option),
// which .ci/run reads to print "N passed, N failed". It lets CI run the README's test command as written.
'use strict';
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/**
 * Whether the run succeeded, computed here: jest calls `onRunComplete` before it sets
 * `results.success` (it is still `false` then, whatever happened).
 */
function succeeded(results) {
  return (
    results.numFailedTests === 0 &&
    results.numRuntimeErrorTestSuites === 0 &&
    !results.runExecError &&
    !(results.snapshot && results.snapshot.failure) &&
    results.numTotalTestSuites > 0
  );
}

class SummaryReporter {
  constructor(globalConfig, options = {}) {
    this.directory = options.directory ?? join(globalConfig.rootDir, 'test-results');
    this.file = options.file ?? 'jest-summary.json';
  }

  onRunComplete(_contexts, results) {
    mkdirSync(this.directory, { recursive: true });
    const { numPassedTests, numFailedTests, numPendingTests, numTotalTests, numRuntimeErrorTestSuites } = results;
    const summary = {
      numPassedTests,
      numFailedTests,
      numPendingTests,
      numTotalTests,
      numRuntimeErrorTestSuites,
      success: succeeded(results),
    };
    writeFileSync(join(this.directory, this.file), JSON.stringify(summary, null, 2));
  }
}

module.exports = SummaryReporter;
module.exports.succeeded = succeeded;
