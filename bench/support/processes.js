// Every child process the bench starts is tracked here, so that it is killed whatever way the bench ends:
// normal end, a failed scenario, the watchdog, Ctrl-C or SIGTERM from CI.
import { spawn } from 'node:child_process';

const children = new Set();

/** spawn() whose child is killed (SIGKILL) when this process exits. */
export function spawnTracked(command, args, options) {
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills `child` (SIGKILL) and resolves once it has exited. */
export function killAndWait(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Waits up to `ms` for `child` to exit by itself (a --cpu-prof profile is written on exit), then kills it. */
export async function exitOrKill(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, killing ${children.size} child process(es)\n`);
    killAll();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}
