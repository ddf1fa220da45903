// End to end through the real pipeline and GraphQL: two episodes of a series (same intro and
// credits around different programmes, different encodings) indexed with the essential stages
// plus fingerprints, technicalCues, quality and nsfw (VIDSEARCH_STAGES). Video.intro/outro and
// skipMarkers come back from matching; an editor's correction wins and a reset restores matching;
// technicalCues, shotQuality/posterTime and the merged moderation view answer; deleting a video
// drops its markers.
import type { ApolloServer } from '@apollo/server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { VideoRecord } from '../../src/domain.js';
import { createApolloServer } from '../../src/http/graphql.js';
import { MediaUrlSigner } from '../../src/http/media-urls.js';
import { createRequestContext, type RequestContext } from '../../src/resolvers/context.js';
import { buildVidsearchSchema } from '../../src/resolvers/schema.js';
import { makeTempDir, runFfmpeg } from '../helpers/media.js';

const INTRO = { video: 'mandelbrot=s=WxH:r=R,trim=duration=8', audio: "aevalsrc='0.4*sin(2*PI*(300+200*sin(2*PI*0.7*t))*t)':s=44100:d=8", seconds: 8 };
// Made at one size and rate, then scaled per episode: the same credits in every encoding.
const CREDITS = { video: 'cellauto=s=320x180:r=25:rule=90:seed=3,trim=duration=6', audio: "aevalsrc='0.3*sin(2*PI*(500+300*sin(2*PI*0.3*t))*t)':s=44100:d=6", seconds: 6 };

async function episode(dir: string, name: string, w: number, h: number, r: number, body: { video: string; audio: string; seconds: number }): Promise<string> {
  const pieces = [INTRO, body, CREDITS].map((p) => ({ ...p, video: p.video.replace('WxH', `${w}x${h}`).replace('R', String(r)) }));
  const chains = pieces.flatMap((p, i) => [
    `${p.video},scale=${w}:${h},setsar=1,fps=${r},format=yuv420p,setpts=PTS-STARTPTS[v${i}]`,
    `${p.audio},aformat=sample_rates=44100:channel_layouts=mono,asetpts=PTS-STARTPTS[a${i}]`,
  ]);
  chains.push(`${pieces.map((_, i) => `[v${i}][a${i}]`).join('')}concat=n=${pieces.length}:v=1:a=1[vout][aout]`);
  const file = `${dir}/${name}.mp4`;
  await runFfmpeg(['-filter_complex', chains.join(';'), '-map', '[vout]', '-map', '[aout]', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', file]);
  return file;
}

let temp: { dir: string; cleanup(): Promise<void> };
let app: App;
let server: ApolloServer<RequestContext>;
const videos: VideoRecord[] = [];

beforeAll(async () => {
  temp = await makeTempDir('vidsearch-intro-e2e-');
  const ep1 = await episode(temp.dir, 'show-e01', 320, 180, 25, { video: 'cellauto=s=320x180:r=25:rule=30,trim=duration=14', audio: 'anoisesrc=c=pink:seed=1:a=0.2:d=14:r=44100', seconds: 14 });
  const ep2 = await episode(temp.dir, 'show-e02', 480, 270, 30, { video: 'life=s=480x270:r=30:seed=7:mold=10,trim=duration=12', audio: 'sine=frequency=330:sample_rate=44100:duration=12,volume=0.3', seconds: 12 });
  const config = loadConfig({ VIDSEARCH_DATA_DIR: `${temp.dir}/data`, VIDSEARCH_MEDIA_ROOTS: temp.dir, VIDSEARCH_STAGES: 'fingerprints,technicalCues,quality,nsfw' });
  app = await createApp(config, { log: pino({ level: 'silent' }) });
  videos.push(await app.indexNow({ path: ep1, series: 'Show', episode: 1 }));
  videos.push(await app.indexNow({ path: ep2, series: 'Show', episode: 2 }));
  server = createApolloServer({ schema: await buildVidsearchSchema(), log: pino({ level: 'silent' }) });
  await server.start();
}, 600_000);

afterAll(async () => {
  await server?.stop();
  await app?.close();
  await temp?.cleanup();
});

async function gql<T>(query: string): Promise<T> {
  // No keys configured: every caller is an editor (API.md).
  const contextValue = createRequestContext({ services: app.services, apiKeys: new Map(), mediaUrls: new MediaUrlSigner(Buffer.from('intro-test-secret-0123456789abcdef')) }, undefined);
  const response = await server.executeOperation({ query }, { contextValue });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  expect(response.body.singleResult.errors).toBeUndefined();
  return response.body.singleResult.data as T;
}

interface Marker {
  kind: string;
  start: number;
  end: number;
  source: string;
}

describe('intro/outro through the pipeline and GraphQL', () => {
  it('answers Video.intro/outro/skipMarkers for both episodes (the first got them when the second arrived)', async () => {
    for (const [i, video] of videos.entries()) {
      const data = await gql<{ video: { intro: Marker; outro: Marker; skipMarkers: Marker[] } }>(`{ video(id: "${video.id}") { intro { kind start end source } outro { kind start end source } skipMarkers { kind start } } }`);
      const bodySec = i === 0 ? 14 : 12;
      expect(data.video.intro.source).toBe('AUTO');
      expect(Math.abs(data.video.intro.start - 0)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(data.video.intro.end - 8)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(data.video.outro.start - (8 + bodySec))).toBeLessThanOrEqual(0.5);
      expect(Math.abs(data.video.outro.end - (8 + bodySec + 6))).toBeLessThanOrEqual(0.5);
      expect(data.video.skipMarkers.map((m) => m.kind)).toEqual(['INTRO', 'OUTRO']);
    }
  });

  it('lets an editor correct the intro, and a reset brings the matched one back', async () => {
    const id = videos[0]!.id;
    const set = await gql<{ setSkipMarker: Marker }>(`mutation { setSkipMarker(videoId: "${id}", kind: INTRO, start: 0.5, end: 7.5) { kind start end source } }`);
    expect(set.setSkipMarker).toEqual({ kind: 'INTRO', start: 0.5, end: 7.5, source: 'EDITOR' });
    // Re-matching the series (another episode arriving) never overwrites the editor's marker.
    await app.services.introOutro.resetMarker(videos[1]!.id, 'INTRO');
    expect((await gql<{ video: { intro: Marker } }>(`{ video(id: "${id}") { intro { start source } } }`)).video.intro).toEqual({ start: 0.5, source: 'EDITOR' });
    const reset = await gql<{ resetSkipMarker: { intro: Marker } }>(`mutation { resetSkipMarker(videoId: "${id}", kind: INTRO) { intro { source end } } }`);
    expect(reset.resetSkipMarker.intro.source).toBe('AUTO');
  });

  it('answers technical cues, shot quality, the poster and the moderation view', async () => {
    const id = videos[0]!.id;
    const data = await gql<{ technicalCues: { type: string }[]; video: { shotQuality: { clean: boolean }[]; posterTime: number | null }; moderation: { flagged: boolean; segments: unknown[] } }>(
      `{ technicalCues(videoId: "${id}") { type start end } video(id: "${id}") { shotQuality { clean issues } posterTime } moderation(videoId: "${id}") { flagged segments { segment { id } } } }`,
    );
    expect(data.technicalCues.filter((c) => c.type === 'BLACK_FRAMES' || c.type === 'COLOR_BARS')).toEqual([]);
    expect(data.video.shotQuality.length).toBeGreaterThan(0);
    expect(data.video.posterTime).not.toBeNull();
    expect(data.moderation).toEqual({ flagged: false, segments: [] });
  });

  it('drops the markers of a deleted video', async () => {
    const id = videos[1]!.id;
    await app.services.videos.delete(id);
    expect(await app.store.intro.getMarkers([id])).toEqual([[]]);
  });
});
