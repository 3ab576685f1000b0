import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RedisServer } from '../support/redis-server.js';

const script = fileURLToPath(new URL('../fixtures/unawaited-dispatch.mjs', import.meta.url));

describe('no unhandled promise rejection, ever (built package, --unhandled-rejections=strict)', () => {
  it('failed dispatches nobody awaited are logged; awaited ones reject; the process stays up and exits cleanly', async () => {
    const redis = await RedisServer.start(['--rename-command', 'PUBLISH', '']);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--unhandled-rejections=strict', script, redis.url], {
        timeout: 20_000,
      });
      const [report, closed] = stdout.trim().split('\n');
      const { awaited, returnedValue, savedAwaited, logged } = JSON.parse(report);

      expect(closed).toBe('closed');
      expect(awaited).toBe('MesaDispatchError');
      expect(returnedValue).toBe(3);
      expect(savedAwaited).toBe('MesaDispatchError');
      const errors = logged.filter((line: { level: string }) => line.level === 'error').map((line: { message: string }) => line.message);
      expect(errors).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^A dispatch nobody awaited failed: Redis at redis:\/\/127\.0\.0\.1:\d+: the script failed while running.*unknown redis command.*may have been published/i,
          ),
          expect.stringMatching(/^A dispatch nobody awaited failed: Message data cannot be sent as JSON/),
          expect.stringMatching(/^@Dispatch\('COUNT'\) on Notifier\.count: Redis at .*may have been published/),
          expect.stringMatching(
            /^A dispatch nobody awaited failed: @Dispatch\('SAVED'\) on Notifier\.save: Redis at .*may have been published/,
          ),
        ]),
      );
      expect(errors.some((message: string) => message.includes('AWAITED'))).toBe(false);
      expect(errors).toHaveLength(4);
    } finally {
      await redis.stop();
    }
  });
});
