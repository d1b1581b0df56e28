/**
 * Seeded randomness for the benchmark workspace. mulberry32 is tiny, fast and good enough for
 * test data; every byte of the generated workspace comes from one stream so a seed fixes it.
 */

/** mulberry32: 32-bit state, returns floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = '0123456789abcdef';

export class Rng {
  constructor(seed) {
    this.next = mulberry32(seed);
  }

  /** integer in [lo, hi] */
  int(lo, hi) {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick(items) {
    return items[Math.floor(this.next() * items.length)];
  }

  chance(p) {
    return this.next() < p;
  }

  /** standard normal (Box–Muller) */
  normal() {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  hex(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += HEX[Math.floor(this.next() * 16)];
    return s;
  }

  /** distinct indices from [0, n) */
  sample(n, k) {
    const chosen = new Set();
    while (chosen.size < Math.min(k, n)) chosen.add(Math.floor(this.next() * n));
    return [...chosen];
  }
}
