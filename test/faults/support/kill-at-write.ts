import { spawn, spawnSync } from 'node:child_process';

/** Whether strace is installed (Debian's `strace` package); tests that need it are skipped without it. */
export const straceInstalled = spawnSync('strace', ['-o', '/dev/null', 'true']).status === 0;

/** A tracer attached by {@link killAtWrite}. */
export interface WriteKiller {
  /** Resolves with what strace printed (the traced writes, then `+++ killed by SIGKILL +++`) once it ends. */
  readonly finished: Promise<string>;
}

/**
 * Attaches strace to the main thread of process `pid` so that it is SIGKILLed on entering its `nth`
 * write(2) from now on, before that write runs: a crash at an exact point between two writes.
 * Resolves once strace is attached; rejects with strace's own message if it cannot attach.
 */
export function killAtWrite(pid: number, nth: number): Promise<WriteKiller> {
  const tracer = spawn('strace', ['-p', String(pid), '-e', 'trace=write', '-e', `inject=write:signal=KILL:when=${nth}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  const finished = new Promise<string>((resolve) => tracer.once('close', () => resolve(output)));
  return new Promise((resolve, reject) => {
    tracer.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/Process \d+ attached/.test(output)) resolve({ finished });
    });
    tracer.once('error', reject);
    void finished.then(() => reject(new Error(`strace could not attach to process ${pid}: ${output.trim()}`)));
  });
}
