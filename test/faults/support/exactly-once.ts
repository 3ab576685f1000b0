import type { Redis } from 'ioredis';

/** The ids (CLIENT ID) of the module's connections: the clients named nestjs-mesa. */
export async function moduleConnectionIds(admin: Redis): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(' name=nestjs-mesa '))
    .map((line) => /^id=(\d+)/.exec(line)![1]);
}

/** How many times each number `n` of `data.n` occurs, for those that occur more than once. */
export function repeated(numbers: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const n of numbers) counts[n] = (counts[n] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 1));
}
