/**
 * A download (pull, clone, restore, verify) is a stream of short-lived buffers: socket reads,
 * answers, plaintexts. When much survives a scavenge (the staged list, the manifest do), V8
 * doubles its young generation up to 16 MB semi-spaces, and then frees dead buffers only every 16
 * MB of small objects: the benchmark's clone of 10,000 files peaked ~35 MB higher than it needs
 * to. Keeping the young generation at its starting size during the download costs a few more
 * scavenges (within the noise of the benchmark's clone time).
 *
 * setFlagsFromString after start-up is safe for this one flag: V8 reads it each time it grows
 * the young generation, and nothing else.
 */
import v8 from 'node:v8';

/** V8's default --semi-space-growth-factor */
const DEFAULT_GROWTH = 2;

export async function withSteadyYoungGeneration<T>(fn: () => Promise<T>): Promise<T> {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  try {
    return await fn();
  } finally {
    v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH}`);
  }
}
