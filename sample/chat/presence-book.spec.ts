import { MAX_TABS_PER_USER, PresenceBook } from './presence-book.js';

describe('PresenceBook: presence from counted sockets, away from the tabs', () => {
  let book: PresenceBook;
  beforeEach(() => (book = new PresenceBook()));

  it('is online while any socket of the user is open, whatever the order of the events', () => {
    expect(book.socketOpened('ada')).toEqual({ id: 'ada', state: 'online', version: 1 });
    expect(book.socketOpened('ada')).toBeUndefined(); // a second tab changes nothing
    expect(book.socketClosed('ada')).toBeUndefined(); // one tab left
    expect(book.state('ada')).toBe('online');
    expect(book.socketClosed('ada')).toEqual({ id: 'ada', state: 'offline', version: 2 });
    // a disconnection handled before its authentication still adds up to nothing
    book.socketClosed('bob');
    book.socketOpened('bob');
    expect([book.state('bob'), book.sockets('bob'), book.version]).toEqual(['offline', 0, 2]);
  });

  it('counts Mesa’s connected_clients as online (a socket is open), never its absence as offline', () => {
    expect(book.state('cy', true)).toBe('online');
    book.socketOpened('cy');
    expect(book.state('cy', false)).toBe('online');
  });

  it('is away only while every open tab is hidden; a tab that never said so keeps the user online', () => {
    book.socketOpened('ada');
    book.socketOpened('ada');
    expect(book.tabReported('ada', 'a1', true)).toBeUndefined(); // the other tab has not spoken: online
    expect(book.tabReported('ada', 'a2', true)).toEqual({ id: 'ada', state: 'away', version: 2 });
    expect(book.tabReported('ada', 'a2', false)).toEqual({ id: 'ada', state: 'online', version: 3 });
    expect(book.state('nobody')).toBe('offline');
    expect(book.tabReported('ghost', 'g1', true)).toBeUndefined(); // hidden tabs without a socket: still offline
  });

  it('settles whatever order two replicas’ events arrive in: a tab heard before the other socket flickers, then agrees', () => {
    // in order: tab 1's socket, tab 2's socket, both tabs hidden
    book.socketOpened('ada');
    book.socketOpened('ada');
    book.tabReported('ada', 'a1', true);
    book.tabReported('ada', 'a2', true);
    // tab 2's socket authenticated on another replica, its event handled after tab 1's VISIBILITY
    const changes = [
      book.socketOpened('bob'),
      book.tabReported('bob', 'b1', true),
      book.socketOpened('bob'),
      book.tabReported('bob', 'b2', true),
    ];
    expect(changes.map((change) => change?.state)).toEqual(['online', 'away', 'online', 'away']);
    expect([book.state('ada'), book.state('bob')]).toEqual(['away', 'away']);
  });

  it('forgets the tabs that do not answer a probe, and all tabs with the last socket', () => {
    book.socketOpened('ada');
    book.socketOpened('ada');
    book.tabReported('ada', 'visible', false);
    book.tabReported('ada', 'hidden', true);
    book.socketClosed('ada'); // which one? the visible tab closed, in fact
    book.startProbe('ada');
    expect(book.tabReported('ada', 'hidden', true)).toBeUndefined(); // the stale visible tab still counts until the probe ends
    expect(book.endProbe('ada')).toEqual({ id: 'ada', state: 'away', version: 2 });
    expect(book.socketClosed('ada')).toEqual({ id: 'ada', state: 'offline', version: 3 });
    book.socketOpened('ada');
    expect(book.state('ada')).toBe('online'); // the hidden tab of before is forgotten
  });

  it(`believes at most ${MAX_TABS_PER_USER} tabs per user`, () => {
    book.socketOpened('ada');
    for (let tab = 0; tab < MAX_TABS_PER_USER; tab++) book.tabReported('ada', `t${tab}`, false);
    expect(book.tabReported('ada', 'one-more', true)).toBeUndefined();
    for (let tab = 0; tab < MAX_TABS_PER_USER; tab++) book.tabReported('ada', `t${tab}`, true);
    expect(book.state('ada')).toBe('away');
  });
});
