/**
 * Picking a workspace by what was typed (`clone W`, `--workspace W`, `workspace rename|delete W`),
 * with the rule team ids and snapshot ids follow: an exact id, a unique id prefix of at least
 * MIN_ID_PREFIX hex characters, or an exact name.
 */
import { NotFoundError, UsageError } from './errors.js';

/** The shortest id prefix taken, as for team and snapshot ids (`workspace list` shows 12). */
export const MIN_ID_PREFIX = 4;

const LIST_HINT = 'see `insomnia-sync workspace list`';

/**
 * The one workspace `wanted` names. An exact id wins over everything. Otherwise a name and an id
 * prefix count alike: when the name is one workspace's and the prefix another's, neither is taken
 * (exit 2): a name someone gave a shared workspace must not stand in for yours, nor a 4-character
 * prefix for the workspace you named. Ambiguous, or a prefix of an id under MIN_ID_PREFIX
 * characters, is a usage error (exit 2); no match is not found (exit 5).
 */
export function findWorkspace<T extends { id: string; name: string }>(all: readonly T[], wanted: string): T {
  const exact = all.find((w) => w.id === wanted.toLowerCase());
  if (exact) return exact;
  const prefix = wanted.trim().toLowerCase();
  const hex = /^[0-9a-f]+$/.test(prefix);
  const byPrefix = hex && prefix.length >= MIN_ID_PREFIX ? all.filter((w) => w.id.startsWith(prefix)) : [];
  const byName = all.filter((w) => w.name === wanted);
  if (byPrefix.length > 0 && byName.length > 0 && !(byPrefix.length === 1 && byName.length === 1 && byPrefix[0] === byName[0])) {
    throw new UsageError(`${wanted} is both a workspace's name and the start of another's id`, `give the full id (${LIST_HINT})`);
  }
  if (byPrefix.length > 1) throw new UsageError(`workspace id prefix ${prefix} is ambiguous`, 'give more characters of the id');
  if (byName.length > 1) throw new UsageError(`${byName.length} workspaces are named ${wanted}`, 'use the workspace id instead');
  const hit = byPrefix[0] ?? byName[0];
  if (hit) return hit;
  if (hex && prefix.length < MIN_ID_PREFIX && all.some((w) => w.id.startsWith(prefix))) {
    throw new UsageError(`workspace id prefix ${prefix} is too short: give at least ${MIN_ID_PREFIX} characters`, LIST_HINT);
  }
  throw new NotFoundError(`no workspace ${wanted}`, `${LIST_HINT} (by name, id, or an id prefix of at least ${MIN_ID_PREFIX} characters)`);
}
