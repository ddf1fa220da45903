// The faces stage end to end on synthetic frames: fake detector/embedder/identifier, the real
// tracking, clustering and span code, the real SQLite appearance repository.
import Database from 'better-sqlite3';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ShotRecord, VideoRecord } from '../../src/domain.js';
import { createFacesStage, type FacesStageDeps } from '../../src/indexers/faces.js';
import { cosine } from '../../src/indexers/face-tracking.js';
import type { StageContext } from '../../src/indexers/stage.js';
import type { DetectedFace } from '../../src/models/types.js';
import { FACES_COLLECTION } from '../../src/store/appearances.js';
import { APPEARANCES_MIGRATION_SQL, EmbeddedAppearanceRepository } from '../../src/store/embedded/appearances.js';
import type { Store, VectorPoint } from '../../src/store/interfaces.js';

const DIM = 8;
const person = (axis: number): Float32Array => {
  const v = new Float32Array(DIM);
  v[axis] = 1;
  return v;
};
const ALICE = person(0);
const BOB = person(1);
const CAROL = person(2);
/** A small, poorly read face of Alice: 0.31 to her, 0.25 to Carol (a near tie between two actors). */
const ALICE_FAINT = new Float32Array([0.31, 0, 0.25, 0, 0, Math.sqrt(1 - 0.31 ** 2 - 0.25 ** 2), 0, 0]);

/** Who is where: x position of the face box → identity. */
interface Appearance {
  who: Float32Array;
  x: number;
  from: number;
  to: number;
}

function fakeDeps(appearances: Appearance[]): Partial<FacesStageDeps> {
  const faceAt = new Map<number, Float32Array>(appearances.map((a) => [a.x, a.who]));
  return {
    models: async () => ({
      detector: {
        modelId: 'fake-detector',
        async detect(image): Promise<DetectedFace[]> {
          const time = image.data[0]! / 10;
          return appearances
            .filter((a) => time >= a.from - 1e-9 && time <= a.to + 1e-9)
            .map((a) => ({ box: { x: a.x, y: 20, width: 60, height: 60 }, score: 0.95, landmarks: [[a.x + 20, 40], [a.x + 40, 40], [a.x + 30, 50], [a.x + 22, 62], [a.x + 38, 62]] }));
        },
      },
      embedder: { modelId: 'fake-embedder', dim: DIM, embed: async (_image, face) => faceAt.get(face.box.x)! },
    }),
    async *frames(ctx, request) {
      for (let k = 0; k * (1 / request.fps) < ctx.video.durationSec; k++) {
        const time = k / request.fps;
        const data = Buffer.alloc(320 * 120 * 3, 90);
        data[0] = Math.round(time * 10); // the fake detector reads the time back from the pixels
        yield { time, data, width: 320, height: 120 };
      }
    },
    // Alice and Carol are enrolled; `among` (the video's cast) keeps only its actors, as the
    // template search's actor filter does.
    scoreFace: async (_ctx, embedding, among) =>
      [
        { actorId: 'alice', similarity: cosine(embedding, ALICE) },
        { actorId: 'carol', similarity: cosine(embedding, CAROL) },
      ]
        .filter((s) => !among || among.includes(s.actorId))
        .sort((a, b) => b.similarity - a.similarity),
    // The second recogniser has tests of its own (face-second-opinion*.test.ts).
    secondOpinion: () => null,
  };
}

function makeStore(shots: Record<string, ShotRecord[]>) {
  const db = new Database(':memory:');
  db.exec(APPEARANCES_MIGRATION_SQL);
  const vectors = new Map<string, VectorPoint>();
  const store = {
    catalog: { getShots: async (videoId: string) => shots[videoId] ?? [] },
    vectors: {
      ensureCollection: async () => 'ok' as const,
      upsert: async (_c: string, points: readonly VectorPoint[]) => points.forEach((p) => vectors.set(p.id, p)),
      delete: async (_c: string, ids: readonly string[]) => ids.forEach((id) => vectors.delete(id)),
    },
    appearances: new EmbeddedAppearanceRepository(db),
  };
  return { store, vectors };
}

function context(video: Partial<VideoRecord>, store: unknown): StageContext {
  return {
    video: { id: 'v1', path: '/x.mp4', durationSec: 10, width: 640, height: 240, ...video } as VideoRecord,
    store: store as Store,
    media: { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' },
    config: loadConfig({}),
    log: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    reportProgress: () => undefined,
  };
}

const shot = (videoId: string, index: number, start: number, end: number): ShotRecord => ({ id: `${videoId}-s${index}`, videoId, index, start, end, keyframeTime: start, transition: index ? 'CUT' : 'START' });

describe('faces stage', () => {
  const v1Cast: Appearance[] = [
    { who: ALICE, x: 10, from: 1, to: 3 },
    { who: BOB, x: 200, from: 0, to: 4.5 },
    { who: BOB, x: 201, from: 6, to: 7 },
  ];

  it('tracks, identifies, clusters strangers and stores spans with the coverage rule', async () => {
    const { store, vectors } = makeStore({ v1: [shot('v1', 0, 0, 5), shot('v1', 1, 5, 10)] });
    const stage = createFacesStage(fakeDeps(v1Cast));
    const output = await stage.run(context({}, store), undefined);
    expect(output).toMatchObject({ tracks: 3, identifiedTracks: 1, unknownTracks: 2, clustersCreated: 1, sampledFrames: 20 });

    const spans = await store.appearances.getSpansOfVideo('v1');
    // Seen at 1.0 … 3.0 with 2 fps → covers 0.75 … 3.25.
    expect(spans.map((s) => [s.actorId, s.start, s.end, s.evidence])).toEqual([['alice', 0.75, 3.25, 'FACE']]);
    const tracks = await store.appearances.getTracksOfVideo('v1');
    const bobs = tracks.filter((t) => !t.actorId);
    // Bob's last sample (4.5 s) is one interval before the cut at 5 s: his track reaches the cut.
    expect(bobs.map((t) => [t.start, t.end])).toEqual([[0, 5], [5.75, 7.25]]);
    expect(new Set(bobs.map((t) => t.clusterId)).size).toBe(1);
    // Every face is stored, but a still face is embedded only at its chain's ends and its 3 best
    // (face-embedding-plan.ts): Alice 5 samples → 5, Bob 10 → 2 ends + 3 best, Bob again 3 → 3.
    expect(output).toMatchObject({ faces: 18, embeddedFaces: 5 + 5 + 3 });
    expect(vectors.size).toBe(5 + 5 + 3);
    expect([...vectors.values()][0]!.payload).toMatchObject({ videoId: 'v1', time: expect.any(Number) });
    // Box back in the video's pixels (decoded 320 wide, video 640 wide).
    const [face] = await store.appearances.getFaces([tracks[0]!.bestFaceId]);
    expect(face!.box.width).toBe(120);
    expect(face!.thumbnail?.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('joins strangers across videos and does not double-count a re-indexed video', async () => {
    const { store, vectors } = makeStore({ v1: [shot('v1', 0, 0, 5), shot('v1', 1, 5, 10)] });
    await createFacesStage(fakeDeps(v1Cast)).run(context({}, store), undefined);
    await createFacesStage(fakeDeps([{ who: BOB, x: 50, from: 2, to: 4 }])).run(context({ id: 'v2', durationSec: 6 }, store), undefined);
    const [cluster] = (await store.appearances.listClusters({}, { first: 10 })).items;
    expect(cluster!.size).toBe(3);

    const again = await createFacesStage(fakeDeps(v1Cast)).run(context({}, store), undefined);
    expect(again.clustersCreated).toBe(0);
    const clusters = (await store.appearances.listClusters({}, { first: 10 })).items;
    expect(clusters).toHaveLength(1);
    expect(clusters[0]!.size).toBe(3);
    expect(await store.appearances.getTracksOfCluster(clusters[0]!.id)).toHaveLength(3);
    expect([...vectors.keys()].filter((id) => id.startsWith('v1:')).length).toBe(13);
  });

  it('with a cast list, names a faint face among the cast that the open set leaves unknown', async () => {
    const faint: Appearance[] = [{ who: ALICE_FAINT, x: 10, from: 0, to: 3 }];
    const openSet = makeStore({});
    await createFacesStage(fakeDeps(faint)).run(context({ durationSec: 4 }, openSet.store), undefined);
    // 0.31 is under the open-set small-face threshold (0.32), and Carol is 0.06 behind.
    expect((await openSet.store.appearances.getTracksOfVideo('v1')).map((t) => t.actorId)).toEqual([null]);

    const withCast = makeStore({});
    await createFacesStage(fakeDeps(faint)).run(context({ durationSec: 4, cast: ['alice'] }, withCast.store), undefined);
    expect((await withCast.store.appearances.getTracksOfVideo('v1')).map((t) => t.actorId)).toEqual(['alice']);

    // A cast without her: the closed set holds only Carol, at 0.25, below the cast threshold.
    const otherCast = makeStore({});
    await createFacesStage(fakeDeps(faint)).run(context({ durationSec: 4, cast: ['carol'] }, otherCast.store), undefined);
    expect((await otherCast.store.appearances.getTracksOfVideo('v1')).map((t) => t.actorId)).toEqual([null]);
  });

  it('keeps two strangers in one frame apart even when they look alike', async () => {
    const { store } = makeStore({});
    const twins: Appearance[] = [
      { who: BOB, x: 10, from: 0, to: 3 },
      { who: BOB, x: 200, from: 0, to: 3 },
    ];
    const output = await createFacesStage(fakeDeps(twins)).run(context({ durationSec: 4 }, store), undefined);
    expect(output.clustersCreated).toBe(2);
    const tracks = await store.appearances.getTracksOfVideo('v1');
    expect(tracks[0]!.clusterId).not.toBe(tracks[1]!.clusterId);
    expect(FACES_COLLECTION).toBe('faces');
  });
});
