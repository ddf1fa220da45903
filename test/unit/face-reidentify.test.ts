// A cast change re-identifies the video's stored face tracks in place (services/face-reidentify.ts
// through VideoService.update): no decode, the stored faces' vectors are scored again, closed set
// over the new cast; an editor's decision stays; clearing the cast brings the open-set rule back.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { cosine } from '../../src/indexers/face-tracking.js';
import type { ActorScore } from '../../src/indexers/face-identity.js';
import type { SecondOpinionScorer } from '../../src/indexers/face-video-identity.js';
import { storedCannotLink } from '../../src/services/face-reidentify.js';
import { createVideoService } from '../../src/services/video.service.js';
import { FACES_COLLECTION, trackIdentitySource, type FaceRecord, type FaceTrackRecord } from '../../src/store/appearances.js';
import { createFakeStore, makeVideo, type FakeStore } from '../helpers/fake-store.js';

const log = pino({ level: 'silent' });
const unit = (...v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v.map((x) => x / n));
};
const TEMPLATES: Record<string, Float32Array> = { ann: unit(1, 0, 0, 0), bob: unit(0, 1, 0, 0), carl: unit(0, 0, 1, 0) };

/** Best template per actor, only the cast's when given (what ActorService.scoreFace answers). */
async function scoreFace(embedding: Float32Array, among: readonly string[] | null): Promise<ActorScore[]> {
  return Object.entries(TEMPLATES)
    .filter(([actorId]) => !among || among.includes(actorId))
    .map(([actorId, template]) => ({ actorId, similarity: cosine(embedding, template) }))
    .sort((a, b) => b.similarity - a.similarity);
}

async function seed(store: FakeStore) {
  const at = new Date().toISOString();
  for (const id of Object.keys(TEMPLATES)) await store.raw.actors.createActor({ id, name: id, aliases: [], createdAt: at, updatedAt: at }, []);
  const video = makeVideo({ width: 640, height: 360 });
  await store.raw.catalog.putVideo(video);
  // Track 0: a small face (40 px) close to Ann at 0.31 and to Bob at 0.28 — no open-set lead, a
  // clear closed-set answer once Bob is off the cast. Track 1: an editor named it Carl.
  const small = unit(0.31, 0.28, 0, Math.sqrt(1 - 0.31 ** 2 - 0.28 ** 2));
  const track = (k: number, embedding: Float32Array, extra: Partial<FaceTrackRecord>): FaceTrackRecord => ({
    id: `${video.id}:track:${k}`, videoId: video.id, shotIndex: 0, start: k * 2, end: k * 2 + 2, faceCount: 3, actorId: null, clusterId: null,
    similarity: null, confidence: 0, bestFaceId: `${video.id}:face:${k * 3}`, embedding, modelId: 'm', ...extra,
  });
  const tracks = [track(0, small, {}), track(1, TEMPLATES.bob!, { actorId: 'carl', confidence: 1 })];
  const faces: FaceRecord[] = tracks.flatMap((t, k) =>
    [0, 1, 2].map((j) => ({ id: `${video.id}:face:${k * 3 + j}`, videoId: video.id, trackId: t.id, time: t.start + j * 0.5, box: { x: 10, y: 10, width: 40, height: 44 }, detectionScore: 0.9, quality: 0.5 - j * 0.1, thumbnail: null })),
  );
  await store.raw.vectors.upsert(FACES_COLLECTION, faces.map((f) => ({ id: f.id, vector: tracks.find((t) => t.id === f.trackId)!.embedding, payload: { videoId: video.id } })));
  await store.raw.appearances.replaceVideoFaces(video.id, { tracks, faces, spans: [], clusters: [] });
  return video;
}

describe('re-identification when the cast changes', () => {
  it('judges the stored tracks again over the new cast, keeps editor decisions, and undoes it when the cast is cleared', async () => {
    const store = createFakeStore();
    const video = await seed(store);
    const videos = createVideoService({ store, derivedFiles: { purgeVideo: async () => undefined }, log, scoreFace });

    await videos.update(video.id, { cast: ['ann', 'carl'] });
    let [small, edited] = await store.appearances.getTracksOfVideo(video.id);
    expect(small).toMatchObject({ actorId: 'ann', similarity: expect.closeTo(0.31, 2) });
    expect(small!.confidence).toBeGreaterThan(0.5);
    expect(trackIdentitySource(small!)).toBe('MATCH');
    expect(edited).toMatchObject({ actorId: 'carl', confidence: 1 });
    const spans = await store.appearances.getSpansOfVideo(video.id);
    expect(spans.map((s) => [s.actorId, s.start, s.end])).toEqual([['ann', 0, 2], ['carl', 2, 4]]);
    // Faces are kept as they were (same ids, no re-decode).
    expect((await store.appearances.getFacesOfTracks([small!.id])).map((f) => f.id)).toEqual([`${video.id}:face:0`, `${video.id}:face:1`, `${video.id}:face:2`]);

    await videos.update(video.id, { cast: null });
    [small, edited] = await store.appearances.getTracksOfVideo(video.id);
    expect(small).toMatchObject({ actorId: null, similarity: null, confidence: 0 });
    expect(edited).toMatchObject({ actorId: 'carl', confidence: 1 });
  });

  it('asks the second recogniser, with the stored thumbnails, about a small track the new cast leaves unknown', async () => {
    const store = createFakeStore();
    const video = await seed(store);
    // Track 0 gets the stored crops of its faces; with Ann and Bob both on the cast its shipped
    // scores (0.31 vs 0.28) leave it unknown, and the second opinion is asked.
    const tracks = await store.appearances.getTracksOfVideo(video.id);
    const faces = (await store.appearances.getFacesOfTracks(tracks.map((t) => t.id))).map((f) => (f.trackId === tracks[0]!.id ? { ...f, thumbnail: Buffer.from(`crop of ${f.id}`) } : f));
    await store.raw.appearances.replaceVideoFaces(video.id, { tracks, faces, spans: [], clusters: [] });
    const asked: { thumbnails: string[]; cast: string[] }[] = [];
    const secondOpinion: SecondOpinionScorer = async (thumbnails, cast) => {
      asked.push({ thumbnails: thumbnails.map((t) => t.jpeg.toString()), cast: [...cast] });
      return thumbnails.map((t) => ({ quality: t.quality, scores: [{ actorId: 'bob', similarity: 0.4 }, { actorId: 'ann', similarity: 0.1 }] }));
    };
    const videos = createVideoService({ store, derivedFiles: { purgeVideo: async () => undefined }, log, scoreFace, secondOpinion });
    await videos.update(video.id, { cast: ['ann', 'bob'] });
    expect(asked).toEqual([{ thumbnails: [0, 1, 2].map((j) => `crop of ${video.id}:face:${j}`), cast: ['ann', 'bob'] }]);
    const [small] = await store.appearances.getTracksOfVideo(video.id);
    expect(small).toMatchObject({ actorId: 'bob', similarity: expect.closeTo(0.4, 5) });
    expect(small!.confidence).toBeGreaterThan(0.5);
  });

  it('does not touch the tracks when the cast stays the same or another field changes', async () => {
    const store = createFakeStore();
    const video = await seed(store);
    const calls: number[] = [];
    const videos = createVideoService({ store, derivedFiles: { purgeVideo: async () => undefined }, log, scoreFace: async (e, among) => (calls.push(1), scoreFace(e, among)) });
    await videos.update(video.id, { title: 'Renamed' });
    await videos.update(video.id, { cast: [] });
    expect(calls).toHaveLength(0);
  });

  it('keeps tracks seen in the same frame apart', () => {
    const tracks = [{ id: 'a' }, { id: 'b' }, { id: 'c' }] as FaceTrackRecord[];
    const faces = [{ trackId: 'a', time: 1 }, { trackId: 'b', time: 1 }, { trackId: 'c', time: 1.5 }, { trackId: 'a', time: 1.5 }] as FaceRecord[];
    expect([...storedCannotLink(tracks, faces)].sort()).toEqual(['0:1', '0:2']);
  });
});
