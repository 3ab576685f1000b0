import { DispatchPromise, MesaDispatchError, MesaValidationError, type DispatchResult } from '../../../lib/index.js';
import type { EntryFields } from '../../../lib/publishing/dispatch-entries.js';
import { DispatchFailures } from '../../../lib/publishing/dispatch-failures.js';
import { RetriedDispatch } from '../../../lib/publishing/retried-dispatch.js';

const failures = new DispatchFailures('redis://r');
const notSent = () => failures.expired(500);
const mayHave = () => failures.connectionLost('the connection closed');
const refused = () => failures.fromEntry({ reason: 'WRONGTYPE: …', mayHaveBeenPublished: false, final: true });
const result: DispatchResult = { recipients: ['u'], publishedTo: ['u'], storedFor: [], receivers: 1 };

/** A RetriedDispatch whose tries are counted, sent again at once (no timer), with `attempts` tries in all. */
const retried = (attempts: number, key?: string) => {
  const caller = DispatchPromise.pending<DispatchResult>();
  const sent: EntryFields[] = [];
  const dispatch = new RetriedDispatch(caller, {
    attempts,
    delay: 0,
    failures,
    later: (send) => send(),
    resend: (fields) => sent.push(fields),
  });
  dispatch.sends({ kind: 'publish', envelope: '{}', recipients: ['u'], key, promise: dispatch });
  const unconsumed: unknown[] = [];
  const fail = (error: unknown) => dispatch.fail(error, (e) => unconsumed.push(e));
  return { caller, dispatch, sent, fail, unconsumed };
};

describe('RetriedDispatch: one settlement for the tries of one dispatch', () => {
  it('tries again what was not sent, up to `attempts` tries in all, then fails with the last failure', async () => {
    const { caller, sent, fail } = retried(3);
    fail(notSent());
    fail(notSent());
    expect(sent).toHaveLength(2);
    const last = notSent();
    fail(last);
    expect(sent).toHaveLength(2);
    await expect(caller).rejects.toBe(last);
  });

  it('resolves with the result of the try that succeeded', async () => {
    const { caller, dispatch, fail } = retried(3);
    fail(notSent());
    dispatch.succeed(result);
    await expect(caller).resolves.toBe(result);
  });

  it('tries again "may have been published" only for a dispatch with an idempotency key', async () => {
    const keyless = retried(3);
    const lost = mayHave();
    keyless.fail(lost);
    expect(keyless.sent).toHaveLength(0);
    await expect(keyless.caller).rejects.toBe(lost);

    const keyed = retried(3, 'K');
    keyed.fail(mayHave());
    expect(keyed.sent).toHaveLength(1);
    keyed.dispatch.succeed({ ...result, duplicate: true });
    await expect(keyed.caller).resolves.toMatchObject({ duplicate: true });
  });

  it('never tries again a refusal that would recur, nor anything but a MesaDispatchError', async () => {
    for (const error of [refused(), new MesaValidationError('bad'), new Error('other')]) {
      const { caller, sent, fail } = retried(3, 'K');
      fail(error);
      expect(sent).toHaveLength(0);
      await expect(caller).rejects.toBe(error);
    }
  });

  it('never says "not sent" when an earlier try may have been published', async () => {
    const { caller, fail } = retried(2, 'K');
    fail(mayHave());
    fail(notSent());
    const error: MesaDispatchError = await caller.catch((e) => e);
    expect(error.mayHaveBeenPublished).toBe(true);
    expect(error.message).toMatch(
      /^Tried 2 times: the last try failed \(Redis at redis:\/\/r stayed unreachable.*\), and an earlier one may have been published \(Redis at redis:\/\/r lost the connection.*\); the message may have been published\.$/,
    );
  });

  it('reports only the final failure of a dispatch nobody awaited', async () => {
    const { fail, unconsumed } = retried(3);
    fail(notSent());
    fail(notSent());
    const last = notSent();
    fail(last);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unconsumed).toEqual([last]);
  });
});
