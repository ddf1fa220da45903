// One seeded PRNG for everything that must repeat exactly: the compact projection's directions
// (part of its model id), the speaker UBM's initial means, synthetic benchmark libraries and test
// data. Math.random is neither seeded nor stable.

/** mulberry32: uniform numbers in [0, 1), the same sequence for a seed on every platform. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
