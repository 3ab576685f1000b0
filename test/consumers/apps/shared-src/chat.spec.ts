// A unit test as an adopter writes one: the service under test dispatches with @Dispatch and DispatcherService,
// and MesaTestingModule stands in for MesaModule (no Redis). The same file runs in every consumer app of
// test/consumers/test-runners.e2e-spec.ts (CommonJS jest, ES module vitest and jest), so it has no relative imports.
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Dispatch, DispatcherService, Message, MesaError, MesaTestingModule, MesaValidationError, RecordingDispatcher } from 'nestjs-mesa';

interface Post {
  room: string;
  author: string;
  text: string;
}

const MEMBERS = new Map([['general', ['ada', 'bob', 'cy']]]);

@Injectable()
class ChatService {
  constructor(private readonly dispatcher: DispatcherService) {}

  @Dispatch('NEW_MESSAGE', { recipients: (post: Post) => MEMBERS.get(post.room) ?? [], excluding: (post: Post) => [post.author] })
  async post(room: string, author: string, text: string): Promise<Post> {
    return { room, author, text };
  }

  kick(userId: string) {
    return this.dispatcher.dispatch(new Message(0, { reason: 'kicked' }, 'KICKED'), [userId]);
  }
}

describe('ChatService with MesaTestingModule', () => {
  let chat: ChatService;
  let mesa: RecordingDispatcher;
  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MesaTestingModule.forRoot({ sync: { enabled: true }, online: ['bob'] })],
      providers: [ChatService],
    }).compile();
    chat = moduleRef.get(ChatService);
    mesa = moduleRef.get(RecordingDispatcher);
    // The class is the token: what the module registers under DispatcherService is the recording double.
    expect(moduleRef.get(DispatcherService)).toBe(mesa);
  });

  it('@Dispatch sends the post to the room, without its author; the offline member has it stored', async () => {
    const post = await chat.post('general', 'ada', 'hello');
    const [sent] = mesa.dispatched('NEW_MESSAGE');
    expect(sent.recipients).toEqual(['bob', 'cy']);
    expect(sent.message).toEqual({ op: 0, d: post, t: 'NEW_MESSAGE' });
    expect(sent.publishedTo).toEqual(['bob']);
    expect(mesa.storedFor('cy')).toEqual([{ op: 0, d: post, t: 'NEW_MESSAGE' }]);
  });

  it('DispatcherService, injected by its class, dispatches', async () => {
    await chat.kick('bob');
    expect(mesa.lastDispatch('KICKED')?.recipients).toEqual(['bob']);
  });

  it('refuses what the real module refuses, with errors that instanceof recognizes', async () => {
    const refused = chat.kick(' ');
    await expect(refused).rejects.toBeInstanceOf(MesaValidationError);
    await expect(refused).rejects.toBeInstanceOf(MesaError);
    await expect(refused).rejects.toThrow(/recipients\[0\] must be a non-empty string user id/);
    expect(mesa.dispatched()).toEqual([]);
  });
});
