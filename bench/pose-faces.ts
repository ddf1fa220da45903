// The labelled faces of the harder presence set (test/fixtures/presence-pose.json, issue 16), for
// the benches that compare what the embedders make of them (face-embedder-candidates.ts,
// face-fusion.ts): the enrolment pictures' aligned crops, and every face the shipped detector finds
// in one half's videos (2×2 tiles, ≥ 16 px), placed on the fixture's source it lies in (exact by
// construction), plus the fit-a-rule sweep both benches report per appearance.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../src/config.js';
import { alignFace, ARCFACE_TEMPLATE_112, loadFaceModels } from '../src/models/faces/index.js';
import { cropRegion, decodeImage } from '../src/models/image.js';
import type { DetectedFace, FaceEmbedder, Point, RawImage } from '../src/models/types.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { buildPresencePose, POSE_FIXTURE, type PoseFixture } from './presence-pose-media.js';
import type { Embed } from './tfjs-embedder.js';

export const ALIGNED_SIDE = 112;

/**
 * The ArcFace-aligned crop of `face`, as the shipped embedder cuts it (a region of three face
 * sides, shrunk to at most 336 px, then a bilinear warp). `lanczos`: a region smaller than that is
 * first enlarged to 336 px with a Lanczos-3 kernel, so the warp no longer upsamples bilinearly.
 */
export async function alignedCrop(image: RawImage, face: DetectedFace, opts: { lanczos?: boolean } = {}): Promise<RawImage> {
  const side = Math.max(face.box.width, face.box.height);
  const region = await cropRegion(image, { x: face.box.x - side, y: face.box.y - side, width: side * 3, height: side * 3 }, ALIGNED_SIDE * 3);
  const enlarge = opts.lanczos ? Math.max(1, (ALIGNED_SIDE * 3) / Math.max(region.image.width, region.image.height)) : 1;
  const source = enlarge > 1 ? await resizedLanczos(region.image, enlarge) : region.image;
  const scale = region.scale * (source.width / region.image.width);
  return alignFace(source, face.landmarks!.map(([x, y]): Point => [(x - region.originX) * scale, (y - region.originY) * scale]));
}

async function resizedLanczos(image: RawImage, factor: number): Promise<RawImage> {
  const width = Math.round(image.width * factor);
  const height = Math.round(image.height * factor);
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }).resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels: image.channels };
}

/** The shipped embedder on an already aligned crop (its own alignment is then the identity). */
export function shippedEmbed(embedder: FaceEmbedder): Embed {
  const face: DetectedFace = { box: { x: 0, y: 0, width: ALIGNED_SIDE, height: ALIGNED_SIDE }, score: 1, landmarks: ARCFACE_TEMPLATE_112.map(([x, y]) => [x, y]) };
  return (crop) => embedder.embed(crop, face);
}

export function mirrored(image: RawImage): RawImage {
  const out = new Uint8Array(image.data.length);
  const { width, channels } = image;
  for (let y = 0; y < image.height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = image.data[(y * width + width - 1 - x) * channels + c]!;
  return { ...image, data: out };
}

export interface EnrolmentCrop {
  actor: string;
  crop: RawImage;
}

export interface PlacedFace {
  video: string;
  shot: number;
  item: number;
  /** Manifest actor id, or 'stranger'. */
  actor: string;
  blur: boolean;
  pose: 'three-quarter' | 'frontal';
  /** The decoded frame (valid while the generator is not resumed). */
  image: RawImage;
  face: DetectedFace;
}

export function readPoseFixture(): PoseFixture {
  return JSON.parse(readFileSync(POSE_FIXTURE, 'utf8')) as PoseFixture;
}

/** ../shared/data as the fixture sees it. */
export const poseShared = (): string => path.resolve(path.dirname(POSE_FIXTURE), '../../../shared/data');

/** Each actor's enrolment pictures, aligned (the first detected face with landmarks). */
export async function enrolmentCrops(shared: string): Promise<EnrolmentCrop[]> {
  const built = buildPresencePose(shared, resolveMediaTools(loadConfig({})).ffmpeg);
  const { detector } = await loadFaceModels({ modelDir: null });
  const out: EnrolmentCrop[] = [];
  for (const actor of readPoseFixture().actors) {
    const files = [...actor.faces.map((f) => path.join(shared, f)), ...(actor.facesFromFrames ?? []).map((_, k) => path.join(built.dir, `${actor.id}-enrol-${k}.png`))];
    for (const file of files) {
      const image = await decodeImage(file, { maxSide: 1600 });
      const face = (await detector.detect(image)).find((f) => f.landmarks);
      if (face) out.push({ actor: actor.id, crop: await alignedCrop(image, face) });
    }
  }
  return out;
}

/** Every detected face (with landmarks, ≥ 16 px) of one half's videos at `fps`, on the source it lies in. */
export async function* placedFaces(half: string, shared: string, fps: number): AsyncGenerator<PlacedFace> {
  const tools = resolveMediaTools(loadConfig({}));
  const built = buildPresencePose(shared, tools.ffmpeg);
  const fixture = readPoseFixture();
  const { detector } = await loadFaceModels({ modelDir: null });
  const [width, height] = fixture.canvas;
  for (const video of fixture.videos.filter((v) => v.half === half)) {
    const raw = spawnSync(tools.ffmpeg, ['-v', 'error', '-i', path.join(built.dir, `${video.name}.mp4`), '-vf', `fps=${fps}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 }).stdout;
    const sizes = video.shots.map((s) => s.items.map((it) => sourceSize(path.join(shared, it.src), tools.ffprobe)));
    for (let k = 0; (k + 1) * width * height * 3 <= raw.length; k++) {
      const t = (k + 0.5) / fps;
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
        yield { video: video.name, shot, item, actor: it.actor ?? 'stranger', blur: (it.blur ?? 0) >= 1.5 || !!it.mblur, pose: it.src.includes('faces_pose/') ? 'three-quarter' : 'frontal', image, face };
      }
    }
  }
}

function sourceSize(file: string, ffprobe: string): [number, number] {
  const out = spawnSync(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file]).stdout.toString().trim();
  const [w, h] = out.split(',').map(Number);
  return [w ?? 0, h ?? 0];
}

/** Each video's cast: the people labelled in it. */
export function castsOf(fixture: PoseFixture): Map<string, Set<string>> {
  return new Map(fixture.videos.map((v) => [v.name, new Set(v.shots.flatMap((s) => s.items.flatMap((i) => (i.actor ? [i.actor] : []))))]));
}

export interface ScoredAppearance {
  truth: string;
  /** Per actor, the appearance's (aggregated) similarity. */
  score: ReadonlyMap<string, number>;
}

/** Most appearances named right with none named wrong, over thresholds × margins (a fit: the fit half only). */
export function bestRule(appearances: readonly ScoredAppearance[]): { right: number; threshold: number; margin: number } {
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
