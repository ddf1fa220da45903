// Text index at scale: builds a synthetic store of N subtitle-like documents (Chinese words drawn by
// jieba's dictionary frequencies, English by a Zipf law over common words and a long tail), then
// times TextIndex.search over a query mix (the cases, mid-frequency words, common words,
// filtered searches) and prints JSON {docs, buildSec, p50Ms, p99Ms, ...} as the last stdout line.
// Wall time suffers from other load on the machine; CPU ms per query (this process's user+system
// time, single-threaded search) is the steadier number to compare runs by.
//   node dist/bench/text-index.js [docs]      (or TEXT_BENCH_DOCS=…; default 1,000,000)
// TEXT_BENCH_DIR=/some/dir keeps the built store there and reuses it on the next run (no rebuild).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DATABASE_FILE } from '../src/store/embedded/db.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import type { TextDocument, TextQuery } from '../src/store/interfaces.js';
import { seededRandom } from '../src/seeded-random.js';

const docs = Number(process.argv[2] ?? process.env.TEXT_BENCH_DOCS ?? 1_000_000);
const SEGMENTS_PER_VIDEO = 600;
/** One segment in five also has an on-screen-text document (collapse has work to do). */
const OCR_EVERY = 5;
const BATCH = 5_000;
const REPEATS = 3;

const random = seededRandom(20240501);

/** Sampler over weighted items: cumulative weights + binary search. */
function weighted<T>(items: readonly T[], weights: readonly number[]): () => T {
  const cumulative = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => (cumulative[i] = sum += w));
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return items[lo]!;
  };
}

// Chinese: jieba's dictionary (349k words with corpus frequencies).
const require = createRequire(import.meta.url);
const dictLines = readFileSync(require.resolve('@node-rs/jieba/dict.txt'), 'utf8').split('\n');
const zhWords: string[] = [];
const zhFreq: number[] = [];
for (const line of dictLines) {
  const [word, freq] = line.split(' ');
  if (word && freq && /^\p{Script=Han}+$/u.test(word)) {
    zhWords.push(word);
    zhFreq.push(Number(freq));
  }
}
const zhWord = weighted(zhWords, zhFreq);

// English: common words first, then a long tail of made-up words; weight 1/rank (Zipf).
const COMMON_EN = (
  'the you i to a it and that of is what in me we this he my your do have know not be for no was on ' +
  'can just with are all get but so here like go they right there up now she out come him was want ' +
  'how about one at if don\'t think her well okay when why who see where tell let back time good been ' +
  'yeah oh hey look really mean say please need thank sorry never going would could should still ' +
  'weather nice today walk park careful cat dinner friend mother father school company hospital police ' +
  'phone car train plane airport coffee tea cake gift birthday wedding secret truth record break ' +
  'technical problem game match champion music movie story ending leave believe love afraid worry happy'
).split(' ');
const SYLLABLES = ['ka', 'ro', 'mi', 'ten', 'sha', 'lo', 'vin', 'da', 'per', 'qu', 'zel', 'an', 'bor', 'ti', 'mek'];
const enWords = [...COMMON_EN];
for (let i = 0; enWords.length < 20_000; i += 1) {
  let word = '';
  for (let n = i; ; n = Math.floor(n / SYLLABLES.length) - 1) {
    word += SYLLABLES[n % SYLLABLES.length];
    if (n < SYLLABLES.length) break;
  }
  enWords.push(word);
}
const enWord = weighted(enWords, enWords.map((_, rank) => 1 / (rank + 1)));

function line(): string {
  if (random() < 0.6) {
    const text = Array.from({ length: 3 + Math.floor(random() * 8) }, zhWord).join('');
    return random() < 0.1 ? `${text}，${Array.from({ length: 2 + Math.floor(random() * 4) }, zhWord).join('')}` : text;
  }
  const words = Array.from({ length: 4 + Math.floor(random() * 10) }, enWord);
  if (random() < 0.001) words.splice(1, 0, 'Joy-Con');
  const text = words.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${random() < 0.3 ? '?' : '.'}`;
}

function* documents(): Generator<TextDocument> {
  for (let n = 0, segment = 0; n < docs; segment += 1) {
    const videoId = `v${Math.floor(segment / SEGMENTS_PER_VIDEO)}`;
    const index = segment % SEGMENTS_PER_VIDEO;
    const base = { videoId, segmentId: `${videoId}-s${index}`, start: index * 6, end: index * 6 + 4, series: `series${Math.floor(segment / 6_000)}` };
    yield { ...base, id: `${videoId}-s${index}-sub`, cueId: `${videoId}-s${index}-sub`, kind: 'SUBTITLE', text: line() };
    n += 1;
    if (index % OCR_EVERY === 0 && n < docs) {
      yield { ...base, id: `${videoId}-s${index}-ocr`, cueId: null, kind: 'ON_SCREEN_TEXT', text: line() };
      n += 1;
    }
  }
}

/** Queries made only of the most common words: no engine ranks those cheaply; reported apart. */
const STOP_WORD_QUERIES = new Set(['the', '我们', '你 我', 'what is this', '没有', 'okay']);

function queries(videoCount: number): TextQuery[] {
  const base = (query: string): TextQuery => ({ query, limit: 20, offset: 0 });
  const fixed = ['天气', '今天天气很好', '技术上的问题', '打破', '打破纪录', 'Joy-Con', 'weather', 'coffee and cake', 'police car', 'happy birthday'];
  const common = [...STOP_WORD_QUERIES];
  const sampled: string[] = [];
  for (let i = 0; i < 80; i += 1) {
    // Mid-frequency words: what people actually search for (names, objects, places).
    if (i % 2 === 0) sampled.push(zhWords[1_000 + Math.floor(random() * 50_000)]!);
    else sampled.push(`${enWords[150 + Math.floor(random() * 3_000)]} ${enWords[150 + Math.floor(random() * 3_000)]}`);
  }
  const all = [...fixed, ...common, ...sampled].map(base);
  const videoIds = Array.from({ length: 5 }, () => `v${Math.floor(random() * videoCount)}`);
  const filtered = ['天气', 'the', 'weather', '我们'].flatMap((q) => [
    { ...base(q), videoIds },
    { ...base(q), kinds: ['ON_SCREEN_TEXT' as const] },
    { ...base(q), series: 'series3', from: 100, to: 900 },
  ]);
  return [...all, ...filtered, { ...base('天气'), offset: 80 }, { ...base('weather'), offset: 200 }];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (x: number) => Math.round(x * 100) / 100;

class Timings {
  private readonly wall: number[] = [];
  private readonly cpu: number[] = [];
  add(wallMs: number, cpuMs: number): void {
    this.wall.push(wallMs);
    this.cpu.push(cpuMs);
  }
  summary(): { samples: number; p50Ms: number; p99Ms: number; maxMs: number; cpuP50Ms: number; cpuP99Ms: number } {
    const wall = [...this.wall].sort((a, b) => a - b);
    const cpu = [...this.cpu].sort((a, b) => a - b);
    return {
      samples: wall.length,
      p50Ms: round(percentile(wall, 50)),
      p99Ms: round(percentile(wall, 99)),
      maxMs: round(wall.at(-1)!),
      cpuP50Ms: round(percentile(cpu, 50)),
      cpuP99Ms: round(percentile(cpu, 99)),
    };
  }
}

const keptDir = process.env.TEXT_BENCH_DIR;
const dir = keptDir ?? mkdtempSync(path.join(os.tmpdir(), 'vidsearch-text-bench-'));
try {
  const reuse = keptDir !== undefined && existsSync(path.join(keptDir, DATABASE_FILE));
  const store = await openEmbeddedStore(dir);
  const buildStart = performance.now();
  let batch: TextDocument[] = [];
  let built = 0;
  for (const doc of reuse ? [] : documents()) {
    batch.push(doc);
    if (batch.length === BATCH) {
      await store.text.upsert(batch);
      built += batch.length;
      batch = [];
      if (built % 100_000 === 0) process.stderr.write(`text bench: ${built} docs indexed\n`);
    }
  }
  if (batch.length) await store.text.upsert(batch);
  const buildSec = (performance.now() - buildStart) / 1000;

  const mix = queries(Math.ceil(docs / SEGMENTS_PER_VIDEO / 1.2));
  for (const q of mix) await store.text.search(q); // warm the page cache and jieba
  /** Wall and CPU milliseconds per query, per query class. */
  const samples = { all: new Timings(), commonWords: new Timings(), otherWords: new Timings(), filtered: new Timings() };
  const slowest: { query: string; ms: number; cpuMs: number; total: number }[] = [];
  for (let r = 0; r < REPEATS; r += 1) {
    for (const q of mix) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const result = await store.text.search(q);
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const filtered = q.videoIds != null || q.kinds != null || q.series != null;
      samples.all.add(ms, cpuMs);
      (filtered ? samples.filtered : STOP_WORD_QUERIES.has(q.query) ? samples.commonWords : samples.otherWords).add(ms, cpuMs);
      if (r === 0) slowest.push({ query: `${q.query}${q.videoIds ? ' [videos]' : q.kinds ? ' [kinds]' : q.series ? ' [series+time]' : ''}`, ms, cpuMs, total: result.total });
    }
  }
  slowest.sort((a, b) => b.ms - a.ms);
  await store.close();
  console.log(
    JSON.stringify({
      docs,
      buildSec: reuse ? null : round(buildSec),
      dbMB: Math.round(statSync(path.join(dir, DATABASE_FILE)).size / 1e6),
      queries: mix.length,
      ...samples.all.summary(),
      commonWords: samples.commonWords.summary(),
      otherWords: samples.otherWords.summary(),
      filtered: samples.filtered.summary(),
      loadAvg: os.loadavg().map((x) => Math.round(x * 10) / 10),
      slowest: slowest.slice(0, 5).map((s) => ({ ...s, ms: round(s.ms), cpuMs: round(s.cpuMs) })),
    }),
  );
} finally {
  if (!keptDir) rmSync(dir, { recursive: true, force: true });
}
