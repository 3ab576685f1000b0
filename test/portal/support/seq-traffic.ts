import { Injectable } from '@nestjs/common';
import { OnMesaMessage, type MesaClientMessage } from '../../../lib/index.js';
import { eventually } from '../../support/mesa-app.js';
import { sleep, type PortalSender } from './portal-harness.js';

/** Records the SEQ numbers it handled and the senders of the WARM frames it handled. */
@Injectable()
export class SeqInbox {
  readonly seq = new Set<number>();
  readonly warm = new Set<string>();

  @OnMesaMessage('SEQ')
  onSeq(message: MesaClientMessage) {
    this.seq.add((message.data as { n: number }).n);
  }

  @OnMesaMessage('WARM')
  onWarm(message: MesaClientMessage) {
    this.warm.add(message.clientId!);
  }
}

/**
 * Sends WARM frames until every receiver (a {@link SeqInbox}, or a child portal) has one from every sender: each
 * Mesa server round-robins over the portals it lists, so then every server lists every receiver.
 */
export async function untilListed(senders: PortalSender[], receivers: Array<{ warm: Set<string> }>): Promise<void> {
  receivers.forEach((receiver) => receiver.warm.clear());
  await eventually(
    async () => {
      senders.forEach((sender) => sender.send('WARM', {}));
      await sleep(20);
      return receivers.every((receiver) => senders.every((sender) => receiver.warm.has(sender.id)));
    },
    15_000,
    'every portal listed by every Mesa server',
  );
}

/** Numbered SEQ frames sent in turn by the senders, with when each was sent. */
export class SeqStream {
  readonly sentAt = new Map<number, number>();
  private next = 0;

  constructor(private readonly senders: PortalSender[]) {}

  /** Sends `count` frames, `gapMs` apart; returns their numbers. */
  async burst(count: number, gapMs = 5): Promise<number[]> {
    const numbers: number[] = [];
    for (let i = 0; i < count; i++) {
      numbers.push(this.send());
      await sleep(gapMs);
    }
    return numbers;
  }

  /** Sends frames `gapMs` apart until `deadline` (a `Date.now()` time); returns their numbers. */
  async until(deadline: number, gapMs = 5): Promise<number[]> {
    const numbers: number[] = [];
    while (Date.now() < deadline) {
      numbers.push(this.send());
      await sleep(gapMs);
    }
    return numbers;
  }

  /** The numbers sent after `time`. */
  sentAfter(time: number): number[] {
    return [...this.sentAt.keys()].filter((n) => this.sentAt.get(n)! > time);
  }

  private send(): number {
    const n = this.next++;
    this.sentAt.set(n, Date.now());
    this.senders[n % this.senders.length]!.send('SEQ', { n });
    return n;
  }
}
