// A jest reporter that writes the run's totals to test-results/jest-summary.json, which .ci/run reads
// to print "N passed, N failed". It lets CI run the README's test command exactly as written.
'use strict';
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.directory = join(globalConfig.rootDir, 'test-results');
  }

  onRunComplete(_contexts, results) {
    mkdirSync(this.directory, { recursive: true });
    const { numPassedTests, numFailedTests, numPendingTests, numTotalTests, numRuntimeErrorTestSuites, success } = results;
    const summary = { numPassedTests, numFailedTests, numPendingTests, numTotalTests, numRuntimeErrorTestSuites, success };
    writeFileSync(join(this.directory, 'jest-summary.json'), JSON.stringify(summary, null, 2));
  }
}

module.exports = SummaryReporter;
