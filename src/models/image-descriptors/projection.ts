// Compact first-stage descriptor: a fixed random orthogonal projection of the CNN descriptor.
// Orthonormal rows preserve inner products up to ~1/√dim noise (Johnson–Lindenstrauss), enough
// to shortlist a few hundred frames that the full descriptor then re-ranks exactly. A fixed seed
// instead of PCA: nothing is fitted on the data being searched, and every process, indexer and
// query side alike, builds the same matrix without storing it.

import { seededRandom } from '../../seeded-random.js';

export interface CompactProjection {
  /** Recorded as the compact collection's model id: source model, dimensions and seed. */
  readonly modelId: string;
  readonly inputDim: number;
  readonly dim: number;
  /** The L2-normalised projection of one full descriptor. */
  project(vector: Float32Array): Float32Array;
}

/** `rows` orthonormal Gaussian directions in `cols` dimensions (Gram–Schmidt, row-major). */
function orthonormalRows(rows: number, cols: number, seed: number): Float32Array {
  if (rows > cols) throw new Error(`cannot project ${cols} dimensions onto ${rows} orthonormal ones`);
  const uniform = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const basis = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = basis.subarray(r * cols, (r + 1) * cols);
    for (let c = 0; c < cols; c++) row[c] = gaussian();
    for (let p = 0; p < r; p++) {
      const prev = basis.subarray(p * cols, (p + 1) * cols);
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += row[c]! * prev[c]!;
      for (let c = 0; c < cols; c++) row[c]! -= dot * prev[c]!;
    }
    let norm = 0;
    for (let c = 0; c < cols; c++) norm += row[c]! * row[c]!;
    norm = Math.sqrt(norm);
    for (let c = 0; c < cols; c++) row[c]! /= norm;
  }
  return Float32Array.from(basis);
}

export function randomOrthogonalProjection(source: { modelId: string; dim: number }, dim: number, seed: number): CompactProjection {
  const matrix = orthonormalRows(dim, source.dim, seed);
  return {
    modelId: `${source.modelId}+rop${dim}-s${seed}`,
    inputDim: source.dim,
    dim,
    project(vector) {
      if (vector.length !== source.dim) throw new Error(`projection expects ${source.dim} dimensions, got ${vector.length}`);
      const out = new Float32Array(dim);
      let norm = 0;
      for (let r = 0; r < dim; r++) {
        let sum = 0;
        const offset = r * source.dim;
        for (let c = 0; c < source.dim; c++) sum += matrix[offset + c]! * vector[c]!;
        out[r] = sum;
        norm += sum * sum;
      }
      norm = Math.sqrt(norm);
      if (norm > 0) for (let r = 0; r < dim; r++) out[r]! /= norm;
      return out;
    },
  };
}

/** Dimensions and seed of the first stage used by the frames index and image search. */
export const COMPACT_DIM = 128;
const COMPACT_SEED = 20_261_123;

const cache = new Map<string, CompactProjection>();

/** The shared compact projection for a descriptor model (built once per process). */
export function compactProjectionFor(source: { modelId: string; dim: number }): CompactProjection {
  const key = `${source.modelId}:${source.dim}`;
  let projection = cache.get(key);
  if (!projection) {
    projection = randomOrthogonalProjection(source, Math.min(COMPACT_DIM, source.dim), COMPACT_SEED);
    cache.set(key, projection);
  }
  return projection;
}
