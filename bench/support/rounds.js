// Runs a scenario's rounds over its contenders: one warm-up round each (not measured), then `rounds`
// measured rounds, rotating the order every round. A round that throws is recorded as a failed check
// and left out; the other contenders and rounds go on. ratiosTo() divides each contender's round by the
// reference contender's same round (they ran back to back) and takes the median of those ratios; a contender
// hosted by hosts.js names its own reference (in-process: the raw ioredis of its own process).
import { fail } from './checks.js';
import { config } from './config.js';
import { median, rotate } from './stats.js';

/**
 * `round(contender, index)` returns an object of numbers (index -1 = warm-up). Returns, per contender
 * key, `{ label, rounds: [metrics...], roundIndex: [index of each entry of rounds], median: { metric: median } }`,
 * plus `base`, `build`, `mode`, `host` and `refs` for a contender from hosts.js.
 */
export async function runRounds(scenario, contenders, rounds, round, { warmup = true, log = true } = {}) {
  const results = Object.fromEntries(
    contenders.map(({ key, label, base, build, mode, host, refs }) => [
      key,
      { label, ...(host ? { base, build, mode, host, refs } : {}), rounds: [], roundIndex: [] },
    ]),
  );
  const attempt = async (contender, index) => {
    try {
      return await round(contender, index);
    } catch (error) {
      fail(`${scenario}/${contender.key} ${index < 0 ? 'warm-up' : `round ${index + 1}`}`, error?.stack ?? String(error));
      return undefined;
    }
  };
  const warmUp = async () => {
    if (warmup) for (const contender of contenders) await attempt(contender, -1);
  };
  await warmUp();
  for (let index = 0; index < rounds; index++) {
    // fresh app processes per round (hosts.js): a process's own state must not follow one build through every round
    if (index > 0 && contenders.renew && config.freshProcesses) {
      if (log) process.stdout.write(`  ${scenario}: new app processes for round ${index + 1}, warmed up again\n`);
      await contenders.renew(index);
      await warmUp();
    }
    for (const contender of rotate(contenders, index)) {
      const metrics = await attempt(contender, index);
      if (!metrics) continue;
      results[contender.key].rounds.push(metrics);
      results[contender.key].roundIndex.push(index);
      if (log) process.stdout.write(`  ${scenario} round ${index + 1}/${rounds} ${contender.key.padEnd(18)} ${summarize(metrics)}\n`);
    }
  }
  for (const result of Object.values(results)) {
    result.median = {};
    const names = new Set(result.rounds.flatMap((metrics) => Object.keys(metrics)));
    for (const name of names) result.median[name] = median(result.rounds.map((m) => m[name]).filter(Number.isFinite));
  }
  return results;
}

/**
 * For every contender of `results` (runRounds' value) and each of `metrics`: round i's value divided by the
 * reference's round i, then the median over the rounds both completed. The reference of a result is
 * `result.refs[reference]` when it names one (hosts.js), else the result keyed `reference`. Sets
 * `result[into][metric] = { perRound: [...], median }` (`into` defaults to 'ratios', the ratios to raw ioredis) and
 * returns `results`.
 */
export function ratiosTo(results, reference, metrics, into = 'ratios') {
  for (const result of Object.values(results)) {
    const ref = results[result.refs?.[reference] ?? reference];
    result[into] = {};
    for (const metric of metrics) {
      const perRound = [];
      result.rounds.forEach((m, i) => {
        const at = ref?.roundIndex.indexOf(result.roundIndex[i]) ?? -1;
        if (at >= 0) perRound.push(m[metric] / ref.rounds[at][metric]);
      });
      result[into][metric] = { perRound, median: median(perRound.filter(Number.isFinite)) };
    }
  }
  return results;
}

/**
 * For results of contenders from hosts.js run in one or several modes: calls `build(results, mode)` once per mode
 * with that mode's results, keys and refs without their `@<mode>` suffix (hosts.js), and returns `{ byMode: { [mode]:
 * what build returned } }` (support/main.js stores each under its own scenario key).
 */
export function forModes(results, build) {
  const strip = (key) => key.replace(/@(in-process|isolated)$/, '');
  const groups = new Map();
  for (const [key, result] of Object.entries(results)) {
    if (!groups.has(result.mode)) groups.set(result.mode, {});
    const refs = Object.fromEntries(Object.entries(result.refs).map(([base, ref]) => [base, strip(ref)]));
    groups.get(result.mode)[strip(key)] = { ...result, refs };
  }
  return { byMode: Object.fromEntries([...groups].map(([mode, group]) => [mode, build(group, mode)])) };
}

function summarize(metrics) {
  return Object.entries(metrics)
    .map(([name, value]) => `${name}=${Number.isInteger(value) ? value : value.toFixed(name === 'rate' || name === 'ceiling' ? 0 : 2)}`)
    .join(' ');
}

/** Closes every contender, reporting (not throwing) failures. */
export async function closeAll(scenario, contenders) {
  for (const contender of contenders) {
    try {
      await contender.close();
    } catch (error) {
      fail(`${scenario}/${contender.key} close`, error?.message ?? String(error));
    }
  }
}
