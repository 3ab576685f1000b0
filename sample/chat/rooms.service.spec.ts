import { ForbiddenException, NotFoundException } from '@nestjs/common';
import { DEFAULT_ROOMS, RoomsService } from './rooms.service.js';

describe('RoomsService', () => {
  let rooms: RoomsService;
  const ada = { id: 'ada', name: 'Ada' };
  const bob = { id: 'bob', name: 'Bob' };
  beforeEach(() => (rooms = new RoomsService()));

  it('starts with the default rooms, empty', () => {
    expect(rooms.list().map((room) => [room.id, room.members.size])).toEqual(DEFAULT_ROOMS.map((room) => [room.id, 0]));
  });

  it('keeps members in joining order; joining again renames instead of duplicating', () => {
    rooms.join('general', ada);
    rooms.join('general', bob);
    rooms.join('general', { id: 'ada', name: 'Ada L.' });
    expect([...rooms.get('general').members.values()]).toEqual([{ id: 'ada', name: 'Ada L.' }, bob]);
    expect(rooms.memberIds('general')).toEqual(['ada', 'bob']);
  });

  it('tells members from non-members and unknown rooms', () => {
    rooms.join('random', ada);
    expect(rooms.requireMember('random', 'ada').id).toBe('random');
    expect(() => rooms.requireMember('random', 'bob')).toThrow(ForbiddenException);
    expect(() => rooms.get('nowhere')).toThrow(NotFoundException);
  });

  it('lists roommates across rooms, without the user and without duplicates', () => {
    rooms.join('general', ada);
    rooms.join('general', bob);
    rooms.join('random', ada);
    rooms.join('random', bob);
    rooms.join('mesa', { id: 'eve', name: 'Eve' });
    expect(rooms.roommatesOf('ada')).toEqual(['bob']);
    expect(rooms.roommatesOf('eve')).toEqual([]);
  });

  it('removes members and says whether they were one', () => {
    rooms.join('general', ada);
    expect(rooms.leave('general', 'ada')).toBe(true);
    expect(rooms.leave('general', 'ada')).toBe(false);
    expect(rooms.memberIds('general')).toEqual([]);
  });
});
