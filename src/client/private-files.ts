/**
 * The config directory holds secrets (SPEC §3, §4: files 0600, folder 0700), and what the CLI
 * writes there is made so. A file or folder someone made looser (`chmod 644`, a copy, a restored
 * backup) is found when it is used: like ssh and gpg, the CLI does not go on silently. A path of
 * ours loses its group and other bits (and the caller says so once); a path it cannot tighten
 * (another user's, a read-only file system) is refused, as ssh refuses a private key others can
 * read.
 */
import { chmodSync, statSync } from 'node:fs';
import { SyncError } from './errors.js';

export interface Tightened {
  path: string;
  /** the permission bits it had (the owner's are kept, the rest removed) */
  was: number;
  folder: boolean;
}

/**
 * Takes group and other bits off each path that exists and has any: `chmod go=`. Returns what it
 * changed, in the order given. Throws `unsafe_permissions` (exit 1) for a path it may not or
 * cannot change, before reading anything from it. No-op where modes mean nothing (Windows).
 */
export function tightenPrivate(paths: readonly string[]): Tightened[] {
  const uid = process.getuid?.();
  if (uid === undefined) return [];
  const done: Tightened[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      continue; // not there (yet): nothing to protect
    }
    const was = st.mode & 0o777;
    if ((was & 0o077) === 0) continue;
    const folder = st.isDirectory();
    const open = `${p} is ${openTo(was)} other users (mode ${octal(was)})`;
    const fix = `its owner can run \`chmod ${folder ? '700' : '600'} ${p}\`; until then it is not used`;
    // another user's file is theirs to fix: holding secrets we would use, it is refused as it is
    if (st.uid !== uid) throw new SyncError('unsafe_permissions', `${open} and belongs to another user, so it cannot be made private`, fix);
    try {
      chmodSync(p, st.mode & 0o700);
    } catch (err) {
      throw new SyncError('unsafe_permissions', `${open} and could not be made private (${fsReason(err)})`, fix);
    }
    done.push({ path: p, was, folder });
  }
  return done;
}

/** One line for a warning: which paths were open, and what they are now. Names paths only. */
export function describeTightened(list: readonly Tightened[]): string {
  const readable = list.some((t) => (t.was & 0o044) !== 0);
  const paths = list.map((t) => `${t.path} (${octal(t.was)})`);
  const named = paths.length === 1 ? paths[0]! : `${paths.slice(0, -1).join(', ')} and ${paths.at(-1)!}`;
  const now = [...new Set(list.map((t) => octal(t.was & 0o700)))].join(', ');
  return `${named} ${list.length === 1 ? 'was' : 'were'} ${readable ? 'readable by' : 'open to'} other users: made private (${now})`;
}

function openTo(mode: number): string {
  return mode & 0o044 ? 'readable by' : mode & 0o022 ? 'writable by' : 'open to';
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

const REASONS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a file is in the way of a folder',
  EEXIST: 'a file is in the way',
  EISDIR: 'it is a folder',
  ENOENT: 'no such file or folder',
};

/** A file-system error as a few words, without the stack or the syscall. */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === undefined) return String((err as Error)?.message ?? err).split('\n')[0]!;
  return REASONS[code] ? `${REASONS[code]}, ${code}` : code;
}
