// 64-bit DCT hash per frame (pHash: 32×32 grey → 8×8 lowest DCT terms > median), robust to
// re-encoding, and the bit count that compares two hashes.
const HASH_SIZE = 32;
const DCT_KEEP = 8;
const DCT_COS = (() => {
  const table = new Float64Array(DCT_KEEP * HASH_SIZE);
  for (let u = 0; u < DCT_KEEP; u++) for (let x = 0; x < HASH_SIZE; x++) table[u * HASH_SIZE + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * HASH_SIZE));
  return table;
})();

/** 64-bit pHash of a luma plane as [hi, lo]: the 8×8 lowest DCT terms of a 32×32 area-average, > median. */
export function dctHash(luma: Uint8Array, width: number, height: number): [number, number] {
  const small = new Float64Array(HASH_SIZE * HASH_SIZE);
  const counts = new Float64Array(HASH_SIZE * HASH_SIZE);
  for (let y = 0; y < height; y++) {
    const row = Math.min(HASH_SIZE - 1, Math.floor((y * HASH_SIZE) / height)) * HASH_SIZE;
    for (let x = 0; x < width; x++) {
      const k = row + Math.min(HASH_SIZE - 1, Math.floor((x * HASH_SIZE) / width));
      small[k]! += luma[y * width + x]!;
      counts[k]! += 1;
    }
  }
  for (let i = 0; i < small.length; i++) small[i]! /= Math.max(1, counts[i]!);
  // Separable DCT-II, only the 8 lowest frequencies each way.
  const rowsDone = new Float64Array(HASH_SIZE * DCT_KEEP);
  for (let y = 0; y < HASH_SIZE; y++) {
    for (let u = 0; u < DCT_KEEP; u++) {
      let s = 0;
      for (let x = 0; x < HASH_SIZE; x++) s += small[y * HASH_SIZE + x]! * DCT_COS[u * HASH_SIZE + x]!;
      rowsDone[y * DCT_KEEP + u] = s;
    }
  }
  const coefficients = new Float64Array(DCT_KEEP * DCT_KEEP);
  for (let v = 0; v < DCT_KEEP; v++) {
    for (let u = 0; u < DCT_KEEP; u++) {
      let s = 0;
      for (let y = 0; y < HASH_SIZE; y++) s += rowsDone[y * DCT_KEEP + u]! * DCT_COS[v * HASH_SIZE + y]!;
      coefficients[v * DCT_KEEP + u] = s;
    }
  }
  // The DC term only says how bright the frame is; the median is taken without it.
  const sorted = [...coefficients.slice(1)].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 64; i++) {
    if (coefficients[i]! <= median) continue;
    if (i < 32) hi |= 1 << i;
    else lo |= 1 << (i - 32);
  }
  return [hi >>> 0, lo >>> 0];
}

export function popcount32(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
