// Subtitle files (discovery, encodings, formats, broken input) and the subtitles/text stages on a
// fake store.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { SegmentRecord, VideoRecord } from '../../src/domain.js';
import { createLogger } from '../../src/logger.js';
import { probeMedia } from '../../src/media/probe.js';
import type { StageContext } from '../../src/indexers/stage.js';
import { cleanCueText, decodeSubtitleBytes, findSidecars, parseSubtitleText } from '../../src/indexers/subtitle-files.js';
import { segmentFor, subtitlesStage } from '../../src/indexers/subtitles.js';
import { buildTextDocuments, metadataText, textStage } from '../../src/indexers/text.js';
import { createFakeStore, makeVideo, type FakeStore } from '../helpers/fake-store.js';
import { encodeText, makeTempDir, makeTestVideo, runFfmpeg, testTools } from '../helpers/media.js';

const SRT_ZH = '1\n00:00:00,500 --> 00:00:01,800\n今天天气很好\n\n2\n00:00:02,100 --> 00:00:03,000\n<i>我们去公园</i>散步吧\n';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterAll(() => cleanup());

describe('decodeSubtitleBytes', () => {
  it.each(['utf8', 'utf8bom', 'utf16le', 'gbk'] as const)('reads %s', (encoding) => {
    const { text } = decodeSubtitleBytes(encodeText(SRT_ZH, encoding));
    expect(text).toBe(SRT_ZH);
  });
});

describe('parseSubtitleText', () => {
  it('parses SRT, WebVTT and ASS into plain text', async () => {
    const srt = await parseSubtitleText(SRT_ZH, 'srt');
    expect(srt.cues).toEqual([
      { start: 0.5, end: 1.8, text: '今天天气很好' },
      { start: 2.1, end: 3, text: '我们去公园散步吧' },
    ]);
    const vtt = await parseSubtitleText('WEBVTT\n\n00:01.000 --> 00:02.500\n<v Bob>Hello <b>there</b>\n', 'vtt');
    expect(vtt.cues).toEqual([{ start: 1, end: 2.5, text: 'Hello there' }]);
    const ass = [
      '[Script Info]', 'ScriptType: v4.00+', '', '[Events]',
      'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
      'Dialogue: 0,0:00:03.00,0:00:04.50,Default,,0,0,0,,{\\an8\\pos(10,20)}Top {\\b1}line{\\b0}\\Nsecond',
    ].join('\n');
    expect((await parseSubtitleText(ass, 'ass')).cues).toEqual([{ start: 3, end: 4.5, text: 'Top line\nsecond' }]);
  });

  it('returns no cues for garbage', async () => {
    expect((await parseSubtitleText('\u0000\u0001 not subtitles at all', 'srt')).cues).toEqual([]);
    expect(cleanCueText('{\\fad(200,200)}<font color="red">Hi</font>\\hthere')).toBe('Hi there');
  });
});

describe('findSidecars', () => {
  it('finds <base>.ext and <base>.<lang>.ext, nothing else', async () => {
    const sub = path.join(dir, 'side');
    await mkdir(sub);
    for (const name of ['ep1.mp4', 'ep1.srt', 'ep1.zh-Hans.srt', 'ep1.en.ass', 'ep1.vtt', 'ep10.srt', 'ep1.srt.bak', 'other.srt']) {
      await writeFile(path.join(sub, name), '');
    }
    const found = await findSidecars(path.join(sub, 'ep1.mp4'));
    expect(found.map((f) => [path.basename(f.path), f.format, f.lang])).toEqual([
      ['ep1.en.ass', 'ass', 'en'],
      ['ep1.srt', 'srt', null],
      ['ep1.vtt', 'vtt', null],
      ['ep1.zh-Hans.srt', 'srt', 'zh-Hans'],
    ]);
  });
});

function segmentsFor(video: VideoRecord, bounds: [number, number][]): SegmentRecord[] {
  return bounds.map(([start, end], index) => ({ id: `${video.id}:seg:${index}`, videoId: video.id, index, shotIndex: index, start, end, keyframeTime: start }));
}

function contextFor(store: FakeStore, video: VideoRecord): StageContext {
  return {
    video,
    store,
    media: testTools,
    config: loadConfig({}),
    log: createLogger('silent'),
    signal: new AbortController().signal,
    reportProgress: () => undefined,
  };
}

describe('subtitles and text stages', () => {
  it('reads a GBK sidecar, a broken sidecar and an embedded stream, and indexes them', async () => {
    const made = await makeTestVideo({ dir, name: 'show', durationSec: 4, srt: SRT_ZH, encoding: 'gbk' });
    // A second, broken sidecar is skipped, not fatal.
    await writeFile(path.join(dir, 'show.en.vtt'), Buffer.from([0xff, 0x00, 0x13, 0x37, 0x00]));
    // An embedded English track in a copy of the video (the copy has no sidecar of its own).
    const englishSrt = path.join(dir, 'english.srt');
    await writeFile(englishSrt, '1\n00:00:02,600 --> 00:00:03,500\nHello from the stream\n');
    const muxed = path.join(dir, 'muxed.mkv');
    await runFfmpeg(['-i', made.path, '-i', englishSrt, '-map', '0', '-map', '1', '-c', 'copy', '-c:s', 'srt', '-metadata:s:s:0', 'language=eng', muxed]);

    const store = createFakeStore();
    const sidecarVideo = makeVideo({ path: made.path, title: 'Show', series: 'Weather Stories', season: 1, episode: 2 });
    await store.catalog.putVideo(sidecarVideo);
    const segments = segmentsFor(sidecarVideo, [[0, 2], [2, 4]]);
    const probe = await probeMedia(testTools, made.path);
    const out = await subtitlesStage.run(contextFor(store, sidecarVideo), { probe, segments });
    expect(out.cues).toBe(2);
    expect(out.skipped.map((s) => s.name)).toEqual(['show.en.vtt']);
    const cues = await store.catalog.getCues(sidecarVideo.id);
    expect(cues.map((c) => [c.text, c.source, c.segmentId])).toEqual([
      ['今天天气很好', 'SIDECAR', segments[0]!.id],
      ['我们去公园散步吧', 'SIDECAR', segments[1]!.id],
    ]);

    await textStage.run(contextFor(store, sidecarVideo), { segments });
    const hits = await store.text.search({ query: '公园', limit: 5, offset: 0 });
    expect(hits.hits[0]?.doc.cueId).toBe(cues[1]!.id);
    const meta = (await store.text.search({ query: 'Weather', limit: 5, offset: 0 })).hits[0]?.doc;
    expect(meta).toMatchObject({ kind: 'METADATA', segmentId: segments[0]!.id, text: 'Show · Weather Stories · S01E02' });

    const muxedVideo = makeVideo({ path: muxed });
    await store.catalog.putVideo(muxedVideo);
    const muxedProbe = await probeMedia(testTools, muxed);
    expect(muxedProbe.subtitleStreams).toHaveLength(1);
    const muxedOut = await subtitlesStage.run(contextFor(store, muxedVideo), { probe: muxedProbe, segments: segmentsFor(muxedVideo, [[0, 2], [2, 4]]) });
    expect(muxedOut.tracks).toEqual([expect.objectContaining({ source: 'EMBEDDED', lang: 'eng', cues: 1 })]);
    const embedded = await store.catalog.getCues(muxedVideo.id);
    expect(embedded).toEqual([expect.objectContaining({ text: 'Hello from the stream', start: 2.6, end: 3.5, lang: 'eng', segmentId: `${muxedVideo.id}:seg:1` })]);
  });

  it('attaches times to segments and titles to metadata text', () => {
    const video = makeVideo({ title: 'Pilot', series: null, season: null, episode: null });
    const segments = segmentsFor(video, [[0, 5], [5, 10]]);
    expect([-1, 0, 4.99, 5, 20].map((t) => segmentFor(segments, t)?.index)).toEqual([0, 0, 0, 1, 1]);
    expect(metadataText(video)).toBe('Pilot');
    expect(buildTextDocuments(video, [], [])).toEqual([]);
  });
});
