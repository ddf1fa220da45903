// The sign-bit pre-scan of a large int8-only cosine matrix (store/embedded/sign-codes.ts) against
// the full int8 scan it replaces, on the image-search bench's kind of crowd: shots of 20 frames
// (noise 0.15) around centres drawn 0.6 from "real" frames, the queries noisy copies of real
// frames. Per configuration one JSON line: CPU ms per search with and without the pre-scan, the
// share of the exact (float) top 200 each keeps, and how often each keeps the real frame the
// query was drawn from in its top 200 (image search's recallAt200).
//   node dist/bench/sign-prescan.js [rows] [queries]      default: 1000000 40
// Two crowds: "fit" (query noise 0.3, seed 1) set SIGN_SHORTLIST_FACTOR; "report" (query noise
// 0.45, 10-frame shots, seed 2) was looked at only after.
import { VectorMatrix } from '../src/store/embedded/vector-matrix.js';
import { seededRandom } from '../src/seeded-random.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const QUERIES = Number(process.argv[3] ?? 40);
const DIM = 128;
const LIMIT = 200;
const REAL_FRAMES = 600;

const crowds = [
  { name: 'fit', seed: 1, queryNoise: 0.3, framesPerShot: 20 },
  { name: 'report', seed: 2, queryNoise: 0.45, framesPerShot: 10 },
];

function unitJitter(random: () => number, base: Float32Array, spread: number): Float32Array {
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const scale = spread / Math.sqrt(base.length);
  const v = base.map((x) => x + scale * gaussian());
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  return v.map((x) => x / norm);
}

function cpuMs<T>(run: () => T): { value: T; ms: number } {
  const start = process.cpuUsage();
  const value = run();
  const used = process.cpuUsage(start);
  return { value, ms: (used.user + used.system) / 1000 };
}

for (const crowd of crowds) {
  const random = seededRandom(crowd.seed);
  const floats = new Float32Array(ROWS * DIM);
  const stored = (rows: readonly { id: string; locator: number | undefined }[]) => new Map(rows.map(({ id, locator }) => [id, floats.subarray(locator! * DIM, (locator! + 1) * DIM)]));
  const withSigns = new VectorMatrix(DIM, 'cosine', ROWS, true, stored);
  const without = new VectorMatrix(DIM, 'cosine', ROWS, true, stored, false);
  const real = Array.from({ length: REAL_FRAMES }, () => unitJitter(random, new Float32Array(DIM), 1));
  let centre = real[0]!;
  for (let row = 0; row < ROWS; row += 1) {
    const vector = row < REAL_FRAMES ? real[row]! : (row % crowd.framesPerShot === 0 && (centre = unitJitter(random, real[Math.floor(random() * REAL_FRAMES)]!, 0.6)), unitJitter(random, centre, 0.15));
    floats.set(vector, row * DIM);
    withSigns.set(`r${row}`, vector, {}, row);
    without.set(`r${row}`, vector, {}, row);
  }
  const totals = { withMs: 0, withoutMs: 0, withExact: 0, withoutExact: 0, withReal: 0, withoutReal: 0 };
  for (let q = 0; q < QUERIES; q += 1) {
    const source = Math.floor(random() * REAL_FRAMES);
    const query = unitJitter(random, real[source]!, crowd.queryNoise);
    const a = cpuMs(() => withSigns.search(query, LIMIT));
    const b = cpuMs(() => without.search(query, LIMIT));
    // The exact top 200 by float dot product (rows are unit vectors; the query too).
    const scores = new Float32Array(ROWS);
    for (let row = 0; row < ROWS; row += 1) {
      let dot = 0;
      for (let i = 0; i < DIM; i += 1) dot += floats[row * DIM + i]! * query[i]!;
      scores[row] = dot;
    }
    const cut = Float32Array.from(scores).sort().at(-LIMIT)!;
    const exact = (ids: { id: string }[]) => ids.filter((h) => scores[Number(h.id.slice(1))]! >= cut).length / LIMIT;
    totals.withMs += a.ms;
    totals.withoutMs += b.ms;
    totals.withExact += exact(a.value);
    totals.withoutExact += exact(b.value);
    totals.withReal += a.value.some((h) => h.id === `r${source}`) ? 1 : 0;
    totals.withoutReal += b.value.some((h) => h.id === `r${source}`) ? 1 : 0;
  }
  const per = (x: number) => Math.round((x / QUERIES) * 1000) / 1000;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'sign-prescan',
      crowd: crowd.name,
      rows: ROWS,
      queries: QUERIES,
      cpuMsPerSearch: { signPrescan: per(totals.withMs), int8Scan: per(totals.withoutMs) },
      exactTop200Kept: { signPrescan: per(totals.withExact), int8Scan: per(totals.withoutExact) },
      realFrameInTop200: { signPrescan: per(totals.withReal), int8Scan: per(totals.withoutReal) },
    })}\n`,
  );
}
