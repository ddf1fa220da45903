// Intro/outro detection across a generated series: the same intro and credits clips joined to
// different programmes (a cold open before the intro in one episode, a preview after the credits
// in another), each episode encoded differently (size, rate, quality, audio bitrate). Episodes are
// indexed one by one through the fingerprints stage: the first gets no markers (no sibling yet),
// and gets them once the second arrives. Reports the boundary error in seconds.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { VideoRecord } from '../../src/domain.js';
import { createFingerprintsStage } from '../../src/indexers/fingerprints.js';
import { matchSeries } from '../../src/indexers/fingerprints/series.js';
import { dctHash, popcount32 } from '../../src/indexers/fingerprints/visual-hash.js';
import type { StageContext } from '../../src/indexers/stage.js';
import { probeMedia } from '../../src/media/probe.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import type { SkipMarkerRecord } from '../../src/store/intro.js';
import { makeVideo } from '../helpers/fake-store.js';
import { makeTempDir, runFfmpeg, testTools } from '../helpers/media.js';

interface Piece {
  video: string;
  audio: string;
  seconds: number;
}

const INTRO_SEC = 8;
const OUTRO_SEC = 6;
const intro = (w: number, h: number, r: number): Piece => ({
  video: `mandelbrot=s=${w}x${h}:r=${r},trim=duration=${INTRO_SEC}`,
  audio: `aevalsrc='0.4*sin(2*PI*(300+200*sin(2*PI*0.7*t))*t)+0.2*sin(2*PI*660*t)*gt(sin(2*PI*2*t),0)':s=44100:d=${INTRO_SEC}`,
  seconds: INTRO_SEC,
});
const outro = (w: number, h: number, r: number): Piece => ({
  video: `testsrc=s=${w}x${h}:r=${r}:d=${OUTRO_SEC}`,
  audio: `aevalsrc='0.3*sin(2*PI*(500+300*sin(2*PI*0.3*t))*t)+0.2*sin(2*PI*220*t)*gt(sin(2*PI*3*t),0.3)':s=44100:d=${OUTRO_SEC}`,
  seconds: OUTRO_SEC,
});
function programme(kind: number, w: number, h: number, r: number, seconds: number): Piece {
  const sources = [
    { video: `cellauto=s=${w}x${h}:r=${r}:rule=30,trim=duration=${seconds}`, audio: `anoisesrc=c=pink:seed=1:a=0.2:d=${seconds}:r=44100` },
    { video: `life=s=${w}x${h}:r=${r}:seed=7:mold=10:life_color=0xff6040:death_color=0x102060,trim=duration=${seconds}`, audio: `sine=frequency=330:sample_rate=44100:duration=${seconds},volume=0.3` },
    { video: `rgbtestsrc=s=${w}x${h}:r=${r}:d=${seconds},hue=H=2*PI*t/5`, audio: `anoisesrc=c=brown:seed=9:a=0.3:d=${seconds}:r=44100` },
    { video: `testsrc2=s=${w}x${h}:r=${r}:d=${seconds},hue=h=120`, audio: `sine=frequency=880:sample_rate=44100:duration=${seconds},volume=0.2` },
  ];
  return { ...sources[kind % sources.length]!, seconds };
}

interface Episode {
  name: string;
  pieces: Piece[];
  size: [number, number];
  fps: number;
  crf: number;
  audioKbps: number;
  /** Truth: where the intro and the credits are. */
  intro: [number, number];
  outro: [number, number];
}

function episodes(): Episode[] {
  const make = (name: string, size: [number, number], fps: number, crf: number, audioKbps: number, coldOpen: number, body: number, bodyKind: number, preview: number): Episode => {
    const [w, h] = size;
    const pieces: Piece[] = [];
    if (coldOpen) pieces.push(programme(3, w, h, fps, coldOpen));
    pieces.push(intro(w, h, fps), programme(bodyKind, w, h, fps, body), outro(w, h, fps));
    if (preview) pieces.push(programme(bodyKind + 1, w, h, fps, preview));
    const introStart = coldOpen;
    const outroStart = coldOpen + INTRO_SEC + body;
    return { name, pieces, size, fps, crf, audioKbps, intro: [introStart, introStart + INTRO_SEC], outro: [outroStart, outroStart + OUTRO_SEC] };
  };
  return [
    make('ep1', [320, 180], 25, 23, 128, 0, 18, 0, 0),
    make('ep2', [320, 180], 25, 32, 64, 4, 16, 1, 3),
    make('ep3', [480, 270], 30, 28, 96, 0, 20, 2, 0),
  ];
}

async function encode(dir: string, episode: Episode): Promise<string> {
  const file = `${dir}/${episode.name}.mp4`;
  const [w, h] = episode.size;
  const chains: string[] = [];
  episode.pieces.forEach((p, i) => {
    chains.push(`${p.video},scale=${w}:${h},setsar=1,fps=${episode.fps},format=yuv420p,setpts=PTS-STARTPTS[v${i}]`);
    chains.push(`${p.audio},aformat=sample_rates=44100:channel_layouts=mono,asetpts=PTS-STARTPTS[a${i}]`);
  });
  chains.push(`${episode.pieces.map((_, i) => `[v${i}][a${i}]`).join('')}concat=n=${episode.pieces.length}:v=1:a=1[vout][aout]`);
  await runFfmpeg(['-filter_complex', chains.join(';'), '-map', '[vout]', '-map', '[aout]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(episode.crf), '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', `${episode.audioKbps}k`, file]);
  return file;
}

let temp: { dir: string; cleanup(): Promise<void> };
let store: Store;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  temp = await makeTempDir('vidsearch-intro-');
  store = await openEmbeddedStore(temp.dir);
}, 60_000);

afterAll(async () => {
  await store.close();
  await temp.cleanup();
});

async function index(file: string, series: string, episode: number): Promise<VideoRecord> {
  const probe = await probeMedia(testTools, file);
  const video = makeVideo({ path: file, durationSec: probe.durationSec, width: probe.width, height: probe.height, hasAudio: probe.hasAudio, series, episode });
  await store.catalog.putVideo(video);
  const ctx: StageContext = { video, store, media: testTools, config: loadConfig({}), log, signal: new AbortController().signal, reportProgress: () => undefined };
  await createFingerprintsStage().run(ctx, { probe });
  return video;
}

function markerOf(markers: readonly SkipMarkerRecord[], kind: SkipMarkerRecord['kind']): SkipMarkerRecord | undefined {
  return markers.find((m) => m.kind === kind);
}

describe('intro/outro across a generated series', () => {
  it('finds the shared intro and credits once siblings exist, within half a second', async () => {
    const list = episodes();
    const videos: VideoRecord[] = [];
    const first = await index(await encode(temp.dir, list[0]!), 'Generated Show', 1);
    videos.push(first);
    expect((await store.intro.getMarkers([first.id]))[0]).toEqual([]);
    for (const [i, episode] of list.slice(1).entries()) videos.push(await index(await encode(temp.dir, episode), 'Generated Show', i + 2));

    const markers = await store.intro.getMarkers(videos.map((v) => v.id));
    const errors: number[] = [];
    list.forEach((episode, i) => {
      const introMarker = markerOf(markers[i]!, 'INTRO');
      const outroMarker = markerOf(markers[i]!, 'OUTRO');
      expect(introMarker, `${episode.name} intro`).toBeDefined();
      expect(outroMarker, `${episode.name} outro`).toBeDefined();
      errors.push(Math.abs(introMarker!.start - episode.intro[0]), Math.abs(introMarker!.end - episode.intro[1]));
      errors.push(Math.abs(outroMarker!.start - episode.outro[0]), Math.abs(outroMarker!.end - episode.outro[1]));
      expect(introMarker!.matchedVideoIds.length).toBeGreaterThanOrEqual(1);
      console.log(`[intro] ${episode.name}: intro ${introMarker!.start}-${introMarker!.end} (truth ${episode.intro.join('-')}), outro ${outroMarker!.start}-${outroMarker!.end} (truth ${episode.outro.join('-')}), confidence ${introMarker!.confidence}/${outroMarker!.confidence}`);
    });
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    console.log(`[intro] boundary error: mean ${mean.toFixed(2)} s, max ${Math.max(...errors).toFixed(2)} s over ${errors.length} boundaries`);
    expect(Math.max(...errors)).toBeLessThanOrEqual(0.75);
    expect(mean).toBeLessThanOrEqual(0.4);
  }, 300_000);

  it('does not match episodes of another series, nor unrelated programmes', async () => {
    const lone = episodes()[0]!;
    const other: Episode = { ...lone, name: 'other', pieces: [programme(3, 320, 180, 25, 14), programme(1, 320, 180, 25, 14)] };
    const video = await index(await encode(temp.dir, other), 'Other Show', 1);
    const unrelated: Episode = { ...lone, name: 'unrelated', pieces: [programme(0, 320, 180, 25, 14), programme(2, 320, 180, 25, 14)] };
    const second = await index(await encode(temp.dir, unrelated), 'Other Show', 2);
    const markers = await store.intro.getMarkers([video.id, second.id]);
    expect(markers).toEqual([[], []]);
  }, 300_000);
});

describe('fingerprint primitives', () => {
  it('hashes a picture the same after a brightness change and differently from another picture', () => {
    const w = 64;
    const h = 36;
    const gradient = new Uint8Array(w * h).map((_, i) => ((i % w) * 3 + Math.floor(i / w) * 2) % 256);
    const brighter = gradient.map((v) => Math.min(255, v + 20));
    const other = new Uint8Array(w * h).map((_, i) => (Math.floor(i / w) < h / 2 ? 200 : 30));
    const distance = (a: [number, number], b: [number, number]): number => popcount32(a[0] ^ b[0]) + popcount32(a[1] ^ b[1]);
    expect(distance(dctHash(gradient, w, h), dctHash(brighter, w, h))).toBeLessThanOrEqual(4);
    expect(distance(dctHash(gradient, w, h), dctHash(other, w, h))).toBeGreaterThan(16);
  });

  it('gives no markers to an episode alone in its series', () => {
    expect(matchSeries([])).toEqual([]);
  });
});
