/** Lines a list of files takes at most in human output before "… and N more". */
export const MAX_LISTED = 20;

/** At most MAX_LISTED lines: past that, the first MAX_LISTED - 1 and a count of the rest. */
export function capped(lines: string[]): string[] {
  if (lines.length <= MAX_LISTED) return lines;
  return [...lines.slice(0, MAX_LISTED - 1), `  … and ${lines.length - MAX_LISTED + 1} more`];
}
