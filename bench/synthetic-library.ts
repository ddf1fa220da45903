// Builds a synthetic library through the store interfaces (the same writes the pipeline makes):
// videos of 100 segments, each segment with one subtitle-like cue of Chinese or English text drawn
// from a Zipf-weighted vocabulary, so common words are common and rare words are rare, as in
// real dialogue. Deterministic for a given seed.
import type { CueRecord, SegmentRecord, ShotRecord, VideoRecord } from '../src/domain.js';
import { brandSafetyRules, type SegmentTagRecord } from '../src/store/ads.js';
import type { AppearanceSpanRecord } from '../src/store/appearances.js';
import type { Store, TextDocument, VectorPoint } from '../src/store/interfaces.js';
import { seededRandom } from '../src/seeded-random.js';

const ZH_WORDS = (
  '今天 天气 很好 我们 去 公园 散步 小心 前面 有 一只 猫 晚饭 想 吃 饺子 还是 面条 你 我 他 她 ' +
  '不 知道 为什么 这个 那个 时候 已经 可以 没有 什么 怎么 东西 朋友 妈妈 爸爸 学校 公司 医院 ' +
  '警察 电话 手机 汽车 火车 飞机 机场 北京 上海 牛奶 咖啡 茶 蛋糕 礼物 生日 结婚 离婚 秘密 ' +
  '真相 记录 打破 技术 问题 游戏 比赛 冠军 音乐 电影 演员 导演 故事 结局 开始 回来 离开 ' +
  '相信 喜欢 爱 恨 害怕 担心 高兴 难过 生气 对不起 谢谢 再见 明天 昨天 晚上 早上 下雨 下雪'
).split(' ');
const EN_WORDS = (
  'the a you i we they it is was not what why how where when this that there here time ' +
  'weather nice today walk park careful cat dinner dumplings noodles friend mother father school ' +
  'company hospital police phone car train plane airport coffee tea cake gift birthday wedding ' +
  'secret truth record break technical problem game match champion music movie actor director ' +
  'story ending start come back leave believe like love hate afraid worry happy sad angry sorry ' +
  'thanks goodbye tomorrow yesterday night morning rain snow blue paint console'
).split(' ');

function zipfPick<T>(words: readonly T[], random: () => number): T {
  // Inverse-CDF of a 1/rank distribution, approximated by exponentiating a uniform draw.
  const rank = Math.floor(Math.exp(random() * Math.log(words.length + 1))) - 1;
  return words[Math.min(words.length - 1, Math.max(0, rank))]!;
}

export function sentence(random: () => number): string {
  if (random() < 0.6) {
    const n = 3 + Math.floor(random() * 6);
    return Array.from({ length: n }, () => zipfPick(ZH_WORDS, random)).join('');
  }
  const n = 4 + Math.floor(random() * 8);
  return Array.from({ length: n }, () => zipfPick(EN_WORDS, random)).join(' ');
}

export const QUERY_MIX = ['天气', '技术问题', '生日礼物', '打破记录', 'walk in the park', 'coffee', 'police', '牛奶', 'blue paint', '结局'];

/**
 * A query log of `length` searches: 2000 distinct queries of one or two vocabulary words (Zipf
 * within each language), drawn with Zipf weights over the queries, so a few are popular and most
 * are seen once or never, as in a search log. Unlike QUERY_MIX's ten queries cycled, it measures
 * what a ranking costs when a cache of recent rankings mostly misses.
 */
export function queryLog(random: () => number, length: number): string[] {
  const distinct = Array.from({ length: 2000 }, () => {
    const zh = random() < 0.6;
    const words = Array.from({ length: 1 + Math.floor(random() * 2) }, () => zipfPick(zh ? ZH_WORDS : EN_WORDS, random));
    return words.join(zh ? '' : ' ');
  });
  return Array.from({ length }, () => zipfPick(distinct, random));
}

export interface SyntheticLibraryOptions {
  segments: number;
  segmentsPerVideo?: number;
  seed?: number;
  onProgress?(done: number): void;
}

export async function buildSyntheticLibrary(store: Store, options: SyntheticLibraryOptions): Promise<void> {
  const perVideo = options.segmentsPerVideo ?? 100;
  const random = seededRandom(options.seed ?? 42);
  const now = new Date().toISOString();
  const videos = Math.ceil(options.segments / perVideo);
  for (let v = 0; v < videos; v++) {
    const videoId = syntheticVideoId(v);
    const count = Math.min(perVideo, options.segments - v * perVideo);
    const video: VideoRecord = {
      id: videoId, path: `/bench/${videoId}.mp4`, contentHash: videoId, title: `Episode ${v}`,
      series: `Series ${v % 50}`, season: 1, episode: v, durationSec: count * 5, fps: 25, width: 1280,
      height: 720, rotation: 0, startTime: 0, hasAudio: true, status: 'READY', error: null, createdAt: now, updatedAt: now,
    };
    const shots: ShotRecord[] = [];
    const segments: SegmentRecord[] = [];
    const cues: CueRecord[] = [];
    const docs: TextDocument[] = [];
    for (let s = 0; s < count; s++) {
      const start = s * 5;
      const segmentId = `${videoId}_s${s}`;
      shots.push({ id: `${videoId}_h${s}`, videoId, index: s, start, end: start + 5, keyframeTime: start + 2, transition: s === 0 ? 'START' : 'CUT' });
      segments.push({ id: segmentId, videoId, index: s, shotIndex: s, start, end: start + 5, keyframeTime: start + 2 });
      const text = sentence(random);
      const cue: CueRecord = { id: `${videoId}_c${s}`, videoId, segmentId, start: start + 0.5, end: start + 3, text, kind: 'SUBTITLE', source: 'SIDECAR', lang: null };
      cues.push(cue);
      docs.push({ id: cue.id, videoId, segmentId, cueId: cue.id, kind: 'SUBTITLE', start: cue.start, end: cue.end, text, series: video.series });
    }
    await store.catalog.putVideo(video);
    await store.catalog.replaceStructure(videoId, shots, segments);
    await store.catalog.replaceCues(videoId, ['SIDECAR'], cues);
    await store.text.upsert(docs);
    options.onProgress?.((v + 1) * perVideo);
  }
}

/** The id buildSyntheticLibrary gives video number `v` (its segments are `${id}_s${n}`). */
export function syntheticVideoId(v: number): string {
  return `vid_bench${String(v).padStart(7, '0')}`;
}

export interface LoadFixtureOptions {
  /** Same as the buildSyntheticLibrary call: which videos and segments exist. */
  segments: number;
  segmentsPerVideo?: number;
  seed?: number;
  /** Enrolled actors; each video gets a cast of 8 of them. */
  actors?: number;
  spansPerVideo?: number;
  /** Frame descriptors stored per video in the image-search collections. */
  framesPerVideo?: number;
  /** The full-descriptor collection (re-rank) and the compact one searched first, as the frames stage writes them. */
  frameCollections: { full: FrameCollection; compact: FrameCollection & { project(vector: Float32Array): Float32Array } };
  ads?: number;
}

export interface FrameCollection {
  name: string;
  dim: number;
  modelId: string;
}

export interface LoadFixtures {
  /** Per video: its cast (actor ids), for onlyWatch. */
  casts: string[][];
  adCount: number;
}

/**
 * What the load bench needs beyond text, through the same store interfaces the stages use:
 * actors and FACE/VOICE appearance spans (onlyWatch), frame descriptors with the image-search
 * model ids, full and compact (searchByImage: random unit vectors, so the first-stage scan and
 * the re-rank do their full work), and an
 * ad inventory with object/scene/mood tags on every segment (matchAds).
 */
export async function addLoadFixtures(store: Store, options: LoadFixtureOptions): Promise<LoadFixtures> {
  const perVideo = options.segmentsPerVideo ?? 100;
  const random = seededRandom((options.seed ?? 42) + 1);
  const now = new Date().toISOString();
  const videos = Math.ceil(options.segments / perVideo);
  const actorCount = options.actors ?? 500;
  const spansPerVideo = options.spansPerVideo ?? 40;
  const framesPerVideo = options.framesPerVideo ?? 10;
  const adCount = options.ads ?? 200;
  const objects = ['cup', 'car', 'phone', 'bottle', 'laptop', 'dog', 'cake', 'chair'];
  const scenes = ['indoor', 'outdoor', 'close-up', 'dialogue', 'night'];
  const moods = ['calm', 'tense', 'upbeat'];
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

  for (let a = 0; a < actorCount; a++) {
    await store.actors.createActor({ id: `bench_actor${a}`, name: `Actor ${a}`, aliases: [], createdAt: now, updatedAt: now }, []);
  }
  for (let i = 0; i < adCount; i++) {
    await store.ads.putAd({
      id: `bench_ad${i}`, advertiser: `Brand ${i % 40}`, title: `Ad ${i}`, creativeUrl: null,
      keywords: [sentence(random).split(/\s+/)[0]!, pick(EN_WORDS), pick(ZH_WORDS)], categories: [`IAB${1 + (i % 20)}`],
      actors: random() < 0.2 ? [`bench_actor${Math.floor(random() * actorCount)}`] : [], objects: [pick(objects)], scenes: [pick(scenes)], moods: [pick(moods)],
      excludeKeywords: [], brandSafety: brandSafetyRules({ avoidFlagged: i % 2 === 0, avoidLists: [], avoidScenes: [] }),
      flightStart: null, flightEnd: null, createdAt: now, updatedAt: now,
    });
  }
  const { full, compact } = options.frameCollections;
  for (const collection of [full, compact]) {
    await store.vectors.ensureCollection({ name: collection.name, dim: collection.dim, metric: 'cosine', modelId: collection.modelId });
  }

  const casts: string[][] = [];
  for (let v = 0; v < videos; v++) {
    const videoId = syntheticVideoId(v);
    const count = Math.min(perVideo, options.segments - v * perVideo);
    const durationSec = count * 5;
    const cast = Array.from({ length: 8 }, () => `bench_actor${Math.floor(random() * actorCount)}`);
    casts.push(cast);
    const face: AppearanceSpanRecord[] = [];
    const voice: AppearanceSpanRecord[] = [];
    for (let s = 0; s < spansPerVideo; s++) {
      const start = random() * Math.max(1, durationSec - 30);
      const span: AppearanceSpanRecord = {
        id: `${videoId}:${s}`, videoId, actorId: cast[s % cast.length]!, start, end: start + 1 + random() * 25, confidence: 0.5 + random() / 2,
        evidence: s % 4 === 0 ? 'VOICE' : 'FACE', sourceIds: [`${videoId}:track:${s}`], bestFaceId: null,
      };
      (span.evidence === 'FACE' ? face : voice).push(span);
    }
    await store.appearances.replaceSpans(videoId, 'FACE', face);
    await store.appearances.replaceSpans(videoId, 'VOICE', voice);

    const tags: SegmentTagRecord[] = [];
    for (let s = 0; s < count; s++) {
      const segmentId = `${videoId}_s${s}`;
      tags.push({ videoId, segmentId, kind: 'OBJECT', label: pick(objects), score: 0.5 + random() / 2, source: 'MODEL', box: null });
      tags.push({ videoId, segmentId, kind: 'SCENE', label: pick(scenes), score: 0.6, source: 'HEURISTIC', box: null });
      tags.push({ videoId, segmentId, kind: 'MOOD', label: pick(moods), score: 0.6, source: 'HEURISTIC', box: null });
    }
    await store.tags.replaceVideoTags(videoId, ['OBJECT', 'SCENE', 'MOOD'], tags);

    const frames: VectorPoint[] = [];
    for (let f = 0; f < framesPerVideo; f++) {
      const vector = new Float32Array(full.dim);
      let norm = 0;
      for (let d = 0; d < vector.length; d++) {
        vector[d] = random() - 0.5;
        norm += vector[d]! ** 2;
      }
      for (let d = 0; d < vector.length; d++) vector[d]! /= Math.sqrt(norm);
      const time = ((f + 0.5) * durationSec) / framesPerVideo;
      frames.push({ id: `${videoId}:${Math.round(time * 1000)}`, vector, payload: { videoId, time, from: time - 1, to: time + 1 } });
    }
    await store.vectors.upsert(full.name, frames);
    await store.vectors.upsert(compact.name, frames.map((point) => ({ ...point, vector: compact.project(point.vector) })));
    if ((v + 1) % 1000 === 0) process.stderr.write(`bench: load fixtures for ${v + 1} videos\n`);
  }
  return { casts, adCount };
}
