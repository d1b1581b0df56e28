/**
 * Only the executable bit of a file is synced, like git: everything else in st_mode (owner,
 * group, other bits, setuid) is local business and would differ between machines and umasks.
 */

export const FILE_MODES = [0o644, 0o755] as const;
export type FileMode = (typeof FILE_MODES)[number];

export function isFileMode(mode: unknown): mode is FileMode {
  return mode === 0o644 || mode === 0o755;
}

/**
 * Maps a stat mode (e.g. 0o100664) to the synced mode: 0o755 when the owner may execute, else
 * 0o644 (git looks at the same bit). Idempotent, so already-normalised modes pass unchanged.
 */
export function normalizeMode(statMode: number): FileMode {
  return (statMode & 0o100) !== 0 ? 0o755 : 0o644;
}
