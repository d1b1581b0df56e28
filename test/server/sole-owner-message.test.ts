/** The refusal of an only owner's account deletion names every way out, within what the client shows. */
import { describe, expect, it } from 'vitest';
import { soleOwnerMessage } from '../../src/server/routes/account.js';

describe('soleOwnerMessage', () => {
  it('names the team and every way out: hand it over, delete it, remove the others, or have them leave', () => {
    const m = soleOwnerMessage(['Crew']);
    expect(m).toMatch(/^you are the only owner of team Crew, which has other members; nothing was removed\./);
    for (const way of ['`team role EMAIL owner --team TEAM`', '`team delete --team TEAM`', '`team remove`', '`team leave`', 'goes with your account']) expect(m).toContain(way);
  });

  it('cuts long team names, not the way out: the client keeps 300 characters of a message', () => {
    const m = soleOwnerMessage(['x'.repeat(200), 'y'.repeat(200)]);
    expect(m.length).toBeLessThanOrEqual(300);
    expect(m).toMatch(/^you are the only owner of teams x+…, which have other members/);
    expect(m).toMatch(/goes with your account$/);
  });
});
