// Counting checks. A failed check never stops the run; run.js exits non-zero at the end if any failed.
// Checks are about correctness (messages counted, messages stored), never about speed.

const failures = [];

/** Records a failure unless `actual === expected`. Returns whether it held. */
export function expectCount(what, actual, expected) {
  if (actual === expected) return true;
  failures.push(`${what}: expected ${expected}, got ${actual}`);
  process.stderr.write(`  CHECK FAILED ${what}: expected ${expected}, got ${actual}\n`);
  return false;
}

/** Records a failure with a free-form message. */
export function fail(what, message) {
  failures.push(`${what}: ${message}`);
  process.stderr.write(`  CHECK FAILED ${what}: ${message}\n`);
}

export function checkFailures() {
  return [...failures];
}
