/**
 * Prints a fault test's measurements (timings, counts) only when `MESA_TEST_VERBOSE=1`: a passing suite
 * stays quiet, and a failing assertion carries its own message.
 */
export function verbose(line: string): void {
  if (process.env.MESA_TEST_VERBOSE === '1') console.log(line);
}
