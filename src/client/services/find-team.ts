/** Picking one of the user's teams by what they typed (`--team`), apart from the team commands so workspace code loads no more. */
import type { TeamInfo } from '../../protocol/types.js';
import { findByIdOrName } from '../find-by-id-or-name.js';

/**
 * By exact id, a unique id prefix of at least 4 characters, or an exact name, by the rule
 * workspaces follow (find-by-id-or-name.ts); "personal" names the personal team too — by the id
 * our account key gives it when known, since the server's flag could name a shared team.
 */
export function findTeam(teams: TeamInfo[], wanted: string, personalTeamId?: string): TeamInfo {
  const isPersonal = (t: TeamInfo): boolean => (personalTeamId !== undefined ? t.id === personalTeamId : t.personal);
  return findByIdOrName(teams, wanted, {
    noun: 'team',
    list: 'insomnia-sync team list',
    notFound: (w) => `you are in no team ${w}`,
    isNamed: (t, w) => t.name === w || (w === 'personal' && isPersonal(t)),
  });
}
