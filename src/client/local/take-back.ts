/**
 * What a command that writes decrypted files must remove if it is stopped before it finishes: its
 * partial archive, its staging folder, the folders it made. The command removes them itself when
 * it fails or is cancelled (a first Ctrl-C); this registry is for the end that leaves no time for
 * that — a second Ctrl-C, a hangup, an exit from elsewhere — where the CLI runs every step still
 * registered, synchronously, just before the process exits (cli/context.ts). No plaintext stays.
 */

const steps = new Set<() => void>();

/**
 * Registers `step` (synchronous, idempotent, never throwing on a missing path) until the returned
 * function is called: call it once the command has finished, or has removed the files itself.
 */
export function takeBackOnExit(step: () => void): () => void {
  steps.add(step);
  return () => void steps.delete(step);
}

/** Runs every registered step, newest first, each once; a failing step does not stop the others. */
export function takeBackAll(): void {
  const pending = [...steps].reverse();
  steps.clear();
  for (const step of pending) {
    try {
      step();
    } catch {
      /* best effort: the process is exiting */
    }
  }
}
