// Hybrid search on a real indexed video: a generated clip of four distinct shots with subtitles
// goes through the real pipeline (essential stages + frames), then searchSegments is asked by
// text only, by picture only (a frame of the third shot) and by both, in-process and over HTTP
// with a multipart upload like searchByImage's.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { SegmentRecord } from '../../src/domain.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { makeTempDir, makeTestVideo, runFfmpeg } from '../helpers/media.js';

// Shots: 0–3 s, 3–6 s, 6–9 s, 9–12 s; "storm" is said in the first (three times, so the text
// alone ranks it first) and the third, whose frame is the screenshot.
const SRT = `1
00:00:00,500 --> 00:00:02,500
Storm, storm, the storm is coming

2
00:00:03,500 --> 00:00:05,500
Nothing to report today

3
00:00:06,500 --> 00:00:08,500
The storm has reached the harbour

4
00:00:09,500 --> 00:00:11,500
A quiet evening at last
`;
const SCREENSHOT_AT = 7.5;

interface HitShape {
  score: number;
  textScore: number | null;
  vectorScore: number | null;
  segment: { id: string; start: number; end: number };
}

let temp: { dir: string; cleanup(): Promise<void> };
let app: App;
let server: RunningServer;
let screenshot: Buffer;
let segments: SegmentRecord[];

const segmentAt = (time: number) => segments.find((s) => s.start <= time && time < s.end)!;

beforeAll(async () => {
  temp = await makeTempDir('vidsearch-hybrid-');
  const video = await makeTestVideo({ dir: temp.dir, name: 'storm', durationSec: 12, cuts: [3, 6, 9], size: { width: 480, height: 270 }, srt: SRT });
  const shot = path.join(temp.dir, 'screenshot.png');
  await runFfmpeg(['-ss', String(SCREENSHOT_AT), '-i', video.path, '-frames:v', '1', shot]);
  screenshot = await readFile(shot);
  const config = { ...loadConfig({ VIDSEARCH_STAGES: 'frames' }), dataDir: path.join(temp.dir, 'store'), mediaRoots: [temp.dir] };
  app = await createApp(config, { log: createLogger('silent') });
  const indexed = await app.indexNow({ path: video.path, title: 'Storm' });
  segments = (await app.store.catalog.listSegments(indexed.id, { first: 100, after: null })).items;
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
}, 240_000);

afterAll(async () => {
  await server?.close();
  await app?.close();
  await temp?.cleanup();
});

describe('hybrid searchSegments on a real indexed video', () => {
  it('indexed one segment per shot', () => {
    expect(segments.map((s) => [Math.round(s.start), Math.round(s.end)])).toEqual([
      [0, 3],
      [3, 6],
      [6, 9],
      [9, 12],
    ]);
  });

  it('text only: the text engine’s hits, scores and order, no picture side', async () => {
    const page = await app.services.search.searchSegments('storm', null, 10, null);
    const direct = await app.store.text.search({ query: 'storm', limit: 10, offset: 0 });
    expect(page.edges.map((e) => [e.node.segment.id, e.node.score])).toEqual(direct.hits.map((h) => [h.doc.segmentId, h.score]));
    expect(page.edges.map((e) => e.node.segment.id).sort()).toEqual([segmentAt(1).id, segmentAt(7).id].sort());
    expect(page.edges.every((e) => e.node.vectorScore === null && e.node.textScore !== null)).toBe(true);
  });

  it('picture only (empty query): the screenshot’s segment comes first', async () => {
    const page = await app.services.search.searchSegments('', null, 5, null, { image: screenshot });
    const top = page.edges[0]!.node;
    expect(top.segment.id).toBe(segmentAt(SCREENSHOT_AT).id);
    expect(top.textScore).toBeNull();
    expect(top.vectorScore).toBeGreaterThanOrEqual(0.5);
    expect(page.totalCount).toBe(page.edges.length);
  }, 60_000);

  it('text and picture: the segment that matches both ranks first, the other text hit after', async () => {
    const page = await app.services.search.searchSegments('storm', null, 5, null, { image: screenshot });
    const ids = page.edges.map((e) => e.node.segment.id);
    const textAlone = await app.services.search.searchSegments('storm', null, 5, null);
    expect(textAlone.edges[0]!.node.segment.id).toBe(segmentAt(1).id);
    expect(ids[0]).toBe(segmentAt(SCREENSHOT_AT).id);
    expect(ids).toContain(segmentAt(1).id);
    const top = page.edges[0]!.node;
    expect(top.textScore).not.toBeNull();
    expect(top.vectorScore).not.toBeNull();
    expect(top.score).toBeGreaterThan(page.edges[1]!.node.score);
  }, 60_000);

  it('takes the picture as a multipart upload over HTTP, like searchByImage', async () => {
    const operations = {
      query: 'query($q: String!, $f: Upload) { searchSegments(query: $q, image: $f, first: 3) { totalCount edges { node { score textScore vectorScore segment { id start end } } } } }',
      variables: { q: 'storm', f: null },
    };
    const form = new FormData();
    form.append('operations', JSON.stringify(operations));
    form.append('map', JSON.stringify({ 0: ['variables.f'] }));
    form.append('0', new Blob([new Uint8Array(screenshot)], { type: 'image/png' }), 'screenshot.png');
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'apollo-require-preflight': '1' }, body: form });
    const body = (await res.json()) as { data?: { searchSegments: { edges: { node: HitShape }[] } }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    const top = body.data!.searchSegments.edges[0]!.node;
    expect(top.segment.id).toBe(segmentAt(SCREENSHOT_AT).id);
    expect(top.vectorScore).not.toBeNull();
    expect(top.textScore).not.toBeNull();
  }, 60_000);

  it('answers a bad picture with the image path’s typed errors', async () => {
    const query = 'query($b: String) { searchSegments(query: "storm", imageBase64: $b) { totalCount } }';
    const post = async (variables: Record<string, unknown>) => {
      const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      return ((await res.json()) as { errors?: { extensions?: { code?: string } }[] }).errors?.map((e) => e.extensions?.code);
    };
    expect(await post({ b: Buffer.from('not an image at all').toString('base64') })).toEqual(['BAD_USER_INPUT']);
    expect(await post({ b: '%%%' })).toEqual(['BAD_USER_INPUT']);
  });
});
