// Builds a synthetic library through the store interfaces (the same writes the pipeline makes):
// videos of 100 segments, each segment with one subtitle-like cue of Chinese or English text drawn
// from a Zipf-weighted vocabulary, so common words are common and rare words are rare, as in
// real dialogue. Deterministic for a given seed.
import type { CueRecord, SegmentRecord, ShotRecord, VideoRecord } from '../src/domain.js';
import type { Store, TextDocument } from '../src/store/interfaces.js';

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

/** Small deterministic PRNG (mulberry32) so runs are comparable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

export interface SyntheticLibraryOptions {
  segments: number;
  segmentsPerVideo?: number;
  seed?: number;
  onProgress?(done: number): void;
}

export async function buildSyntheticLibrary(store: Store, options: SyntheticLibraryOptions): Promise<void> {
  const perVideo = options.segmentsPerVideo ?? 100;
  const random = rng(options.seed ?? 42);
  const now = new Date().toISOString();
  const videos = Math.ceil(options.segments / perVideo);
  for (let v = 0; v < videos; v++) {
    const videoId = `vid_bench${String(v).padStart(7, '0')}`;
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
