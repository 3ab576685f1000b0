// A jest reporter that writes the run's totals to test-results/jest-summary.json (or the `file` option),
// which .ci/run reads to print "N passed, N failed". It lets CI run the README's test command as written.
'use strict';
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class SummaryReporter {
  constructor(globalConfig, options = {}) {
    this.directory = join(globalConfig.rootDir, 'test-results');
    this.file = options.file ?? 'jest-summary.json';
  }

  onRunComplete(_contexts, results) {
    mkdirSync(this.directory, { recursive: true });
    const { numPassedTests, numFailedTests, numPendingTests, numTotalTests, numRuntimeErrorTestSuites, success } = results;
    const summary = { numPassedTests, numFailedTests, numPendingTests, numTotalTests, numRuntimeErrorTestSuites, success };
    writeFileSync(join(this.directory, this.file), JSON.stringify(summary, null, 2));
  }
}

module.exports = SummaryReporter;
