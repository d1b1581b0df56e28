/** Picking one of the user's teams by what they typed (`--team`), apart from the team commands so workspace code loads no more. */
import type { TeamInfo } from '../../protocol/types.js';
import { NotFoundError, UsageError } from '../errors.js';

/**
 * By exact id or exact name; the personal team also as "personal"; else by a unique prefix of the
 * id (at least 4 hex characters, as `restore` takes snapshot ids), since `team list` shows 12.
 */
export function findTeam(teams: TeamInfo[], wanted: string, personalTeamId?: string): TeamInfo {
  // "personal" by the id our account key gives it when known: the server's flag could name a shared team
  const isPersonal = (t: TeamInfo): boolean => (personalTeamId !== undefined ? t.id === personalTeamId : t.personal);
  const hits = teams.filter((t) => t.id === wanted || t.name === wanted || (wanted === 'personal' && isPersonal(t)));
  if (hits.length > 1) throw new UsageError(`${hits.length} of your teams are named ${wanted}`, 'use the team id `insomnia-sync team list` shows instead');
  if (hits.length === 1) return hits[0]!;
  const prefix = wanted.trim().toLowerCase();
  const byPrefix = /^[0-9a-f]{4,32}$/.test(prefix) ? teams.filter((t) => t.id.startsWith(prefix)) : [];
  if (byPrefix.length > 1) throw new UsageError(`team id prefix ${prefix} is ambiguous`, 'give more characters of the id');
  if (byPrefix.length === 0) throw new NotFoundError(`you are in no team ${wanted}`, 'see `insomnia-sync team list`');
  return byPrefix[0]!;
}
