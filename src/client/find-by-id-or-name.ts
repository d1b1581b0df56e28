/**
 * Picking one workspace or team by what was typed (`clone W`, `--workspace W`, `--team T`), by
 * the rule snapshot ids follow too: an exact id, a unique id prefix of at least MIN_ID_PREFIX hex
 * characters, or an exact name.
 */
import { NotFoundError, UsageError } from './errors.js';

/** The shortest id prefix taken (`workspace list` and `team list` show 12). */
export const MIN_ID_PREFIX = 4;

export interface PickRules<T> {
  noun: 'workspace' | 'team';
  /** the command that lists them, for hints */
  list: string;
  /** what "no such one" says */
  notFound: (wanted: string) => string;
  /** whether `wanted` names this one (default: its name is exactly `wanted`) */
  isNamed?: (item: T, wanted: string) => boolean;
}

/**
 * The one item `wanted` names. An exact id wins over everything. Otherwise a name and an id
 * prefix count alike: when the name is one item's and the prefix another's, neither is taken
 * (exit 2): a name someone gave a shared workspace or team must not stand in for yours, nor a
 * 4-character prefix for the one you named ("2024" is a fine team name and a fine id prefix).
 * Ambiguous, or a prefix of an id under MIN_ID_PREFIX characters, is a usage error (exit 2); no
 * match is not found (exit 5).
 */
export function findByIdOrName<T extends { id: string; name: string }>(all: readonly T[], wanted: string, rules: PickRules<T>): T {
  const { noun, list } = rules;
  const exact = all.find((item) => item.id === wanted.toLowerCase());
  if (exact) return exact;
  const prefix = wanted.trim().toLowerCase();
  const hex = /^[0-9a-f]+$/.test(prefix);
  const byPrefix = hex && prefix.length >= MIN_ID_PREFIX ? all.filter((item) => item.id.startsWith(prefix)) : [];
  const isNamed = rules.isNamed ?? ((item: T, w: string) => item.name === w);
  const byName = all.filter((item) => isNamed(item, wanted));
  if (byPrefix.length > 0 && byName.length > 0 && !(byPrefix.length === 1 && byName.length === 1 && byPrefix[0] === byName[0])) {
    throw new UsageError(`${wanted} is both a ${noun}'s name and the start of another's id`, `give the full id (see \`${list}\`)`);
  }
  if (byPrefix.length > 1) throw new UsageError(`${noun} id prefix ${prefix} is ambiguous`, 'give more characters of the id');
  if (byName.length > 1) throw new UsageError(`${byName.length} ${noun}s are named ${wanted}`, `use the ${noun} id \`${list}\` shows instead`);
  const hit = byPrefix[0] ?? byName[0];
  if (hit) return hit;
  if (hex && prefix.length < MIN_ID_PREFIX && all.some((item) => item.id.startsWith(prefix))) {
    throw new UsageError(`${noun} id prefix ${prefix} is too short: give at least ${MIN_ID_PREFIX} characters`, `see \`${list}\``);
  }
  throw new NotFoundError(rules.notFound(wanted), `see \`${list}\` (by name, id, or an id prefix of at least ${MIN_ID_PREFIX} characters)`);
}
