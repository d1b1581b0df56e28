/** Picking one of the user's teams by what they typed (`--team`), apart from the team commands so workspace code loads no more. */
import type { TeamInfo } from '../../protocol/types.js';
import { NotFoundError, UsageError } from '../errors.js';

/**
 * By id first — exact, then a unique prefix of at least 4 hex characters (`team list` shows 12),
 * as `restore` takes snapshot ids — since ids are fixed and names are the server's text: a team
 * it names like another's id prefix must not take that team's place. Then "personal" (by the id
 * our account key gives it, when known), then an exact name.
 */
export function findTeam(teams: TeamInfo[], wanted: string, personalTeamId?: string): TeamInfo {
  const exact = teams.find((t) => t.id === wanted);
  if (exact) return exact;
  const prefix = wanted.trim().toLowerCase();
  const byPrefix = /^[0-9a-f]{4,32}$/.test(prefix) ? teams.filter((t) => t.id.startsWith(prefix)) : [];
  if (byPrefix.length > 1) throw new UsageError(`team id prefix ${prefix} is ambiguous`, 'give more characters of the id');
  if (byPrefix.length === 1) return byPrefix[0]!;
  // "personal" by the id our account key gives it when known: the server's flag could name a shared team
  const isPersonal = (t: TeamInfo): boolean => (personalTeamId !== undefined ? t.id === personalTeamId : t.personal);
  const hits = teams.filter((t) => t.name === wanted || (wanted === 'personal' && isPersonal(t)));
  if (hits.length > 1) throw new UsageError(`${hits.length} of your teams are named ${wanted}`, 'use the team id `insomnia-sync team list` shows instead');
  if (hits.length === 0) {
    // as for workspace and snapshot ids: a prefix too short to be taken says so, not "no team"
    if (/^[0-9a-f]{1,3}$/.test(prefix) && teams.some((t) => t.id.startsWith(prefix))) {
      throw new UsageError(`team id prefix ${prefix} is too short: give at least 4 characters`, 'see `insomnia-sync team list`');
    }
    throw new NotFoundError(`you are in no team ${wanted}`, 'see `insomnia-sync team list` (by name, id, or an id prefix of at least 4 characters)');
  }
  return hits[0]!;
}
