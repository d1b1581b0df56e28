/** Picking a workspace by what was typed (`clone W`, `--workspace W`, `workspace rename|delete W`). */
import { findByIdOrName } from './find-by-id-or-name.js';

/** By exact id, a unique id prefix of at least 4 characters, or an exact name: see find-by-id-or-name.ts. */
export function findWorkspace<T extends { id: string; name: string }>(all: readonly T[], wanted: string): T {
  return findByIdOrName(all, wanted, { noun: 'workspace', list: 'insomnia-sync workspace list', notFound: (w) => `no workspace ${w}` });
}
