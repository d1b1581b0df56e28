import { describe, expect, it } from 'vitest';
import { findTeam } from '../../src/client/services/find-team.js';
import { NotFoundError, UsageError } from '../../src/client/errors.js';
import type { TeamInfo } from '../../src/protocol/types.js';

const team = (id: string, name: string, personal = false): TeamInfo => ({ id, name, personal, role: 'owner', epoch: 1, sealedKeys: [] });
const teams = [
  team('aaaa1111000000000000000000000000', 'mine', true),
  team('abcd1234000000000000000000000000', 'Acme'),
  team('abcd5678000000000000000000000000', 'Acme'),
  team('5eed0000000000000000000000000000', 'abcd1234'),
];

describe('--team: name, id or unique id prefix', () => {
  it('takes an exact id, an exact name, "personal", or a unique prefix of 4 or more characters (any case)', () => {
    expect(findTeam(teams, 'abcd5678000000000000000000000000').id).toBe(teams[2]!.id);
    expect(findTeam(teams, 'personal').name).toBe('mine');
    expect(findTeam(teams, 'mine').id).toBe(teams[0]!.id);
    expect(findTeam(teams, 'abcd5678').id).toBe(teams[2]!.id);
    expect(findTeam(teams, 'ABCD56780000').id).toBe(teams[2]!.id);
    expect(findTeam(teams, 'aaaa').id).toBe(teams[0]!.id);
  });

  it('an ambiguous name or prefix is a usage error (exit 2) that points at the id team list shows', () => {
    expect(() => findTeam(teams, 'Acme')).toThrow(UsageError);
    try {
      findTeam(teams, 'Acme');
    } catch (err) {
      expect((err as UsageError).hint).toMatch(/team id `insomnia-sync team list` shows/);
    }
    expect(() => findTeam(teams, 'abcd')).toThrow(/team id prefix abcd is ambiguous/);
  });

  it('nothing matching is not found (exit 5); a prefix of a team id under 4 characters is a usage error (exit 2) naming the minimum, as for workspaces', () => {
    expect(() => findTeam(teams, 'ffff')).toThrow(NotFoundError);
    expect(() => findTeam(teams, 'nobody')).toThrow(NotFoundError);
    expect(() => findTeam(teams, 'fff')).toThrow(NotFoundError);
    expect(() => findTeam(teams, 'abc')).toThrow(UsageError);
    expect(() => findTeam(teams, 'abc')).toThrow(/team id prefix abc is too short: give at least 4 characters/);
  });

  it('"personal" is the team whose id the account key gives, when known, not whichever the server flags', () => {
    const flagged = { id: 'b'.repeat(32), name: 'Shared', personal: true } as TeamInfo;
    const real = { id: 'c'.repeat(32), name: 'Personal', personal: false } as TeamInfo;
    expect(findTeam([flagged, real], 'personal', real.id)).toBe(real);
    expect(findTeam([flagged, real], 'personal')).toBe(flagged);
  });

  it("a name that is the start of another team's id takes neither (exit 2), whichever was meant: give the full id", () => {
    const real = { id: '3f981861a2f9cc1f' + 'a'.repeat(16), name: 'Acme', personal: false } as TeamInfo;
    const decoy = { id: 'd'.repeat(32), name: '3f981861a2f9', personal: false } as TeamInfo;
    expect(() => findTeam([decoy, real], '3f981861a2f9')).toThrow(UsageError);
    expect(() => findTeam([decoy, real], '3f981861a2f9')).toThrow("3f981861a2f9 is both a team's name and the start of another's id");
    expect(findTeam([decoy, real], real.id)).toBe(real);
    expect(findTeam([decoy, real], decoy.id)).toBe(decoy);
    // a team named "2024" is not swapped for another whose id happens to start so
    const year = { id: 'e'.repeat(32), name: '2024', personal: false } as TeamInfo;
    const other = { id: '2024' + 'b'.repeat(28), name: 'Other', personal: false } as TeamInfo;
    expect(() => findTeam([year, other], '2024')).toThrow(UsageError);
    expect(findTeam([year], '2024')).toBe(year);
    expect(findTeam([year, other], '2024b')).toBe(other);
  });
});
