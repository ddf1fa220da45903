// The shipped face models and the faces eval on real photos from ../shared/data (skipped with a
// note when absent). A subset of faces.json keeps the file fast; the whole set runs in
// `vidsearch eval ../shared/data/faces.json`.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { facesTask } from '../../src/eval/faces.js';
import { createLogger } from '../../src/logger.js';
import { loadFaceModels, type FaceModels } from '../../src/models/faces/index.js';
import { decodeImage } from '../../src/models/image.js';
import { createActorService, type ActorService } from '../../src/services/actors.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { sharedData, sharedDataDir } from '../helpers/shared-data.js';

const faces = sharedData('faces_deepface/person01/img1.jpg');
const describeWithData = faces ? describe : describe.skip;

let models: FaceModels;
let dataDir: string;
let store: Store;
let actors: ActorService;
const data = (rel: string): string => path.join(sharedDataDir, rel);

describeWithData('shipped face models on real photos', () => {
  // The real embedded store (SQLite actor tables and vector index) in a temporary folder.
  beforeAll(async () => {
    models = await loadFaceModels({ modelDir: null });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-faces-'));
    store = await openEmbeddedStore(dataDir);
    actors = createActorService({ store, config: { mediaRoots: [sharedDataDir] }, log: createLogger('silent'), models: async () => models });
  });
  afterAll(async () => {
    await store?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('finds one face with five landmarks inside its box, and embeds it to a unit 512-d vector', async () => {
    const image = await decodeImage(data('faces_deepface/person01/img1.jpg'));
    const found = await models.detector.detect(image);
    expect(found.length).toBeGreaterThanOrEqual(1);
    const [face] = found;
    expect(face!.landmarks).toHaveLength(5);
    const { x, y, width, height } = face!.box;
    for (const [px, py] of face!.landmarks!) {
      expect(px).toBeGreaterThan(x - width * 0.1);
      expect(px).toBeLessThan(x + width * 1.1);
      expect(py).toBeGreaterThan(y - height * 0.1);
      expect(py).toBeLessThan(y + height * 1.1);
    }
    // Left eye left of the right eye, eyes above the mouth.
    expect(face!.landmarks![0]![0]).toBeLessThan(face!.landmarks![1]![0]);
    expect(face!.landmarks![0]![1]).toBeLessThan(face!.landmarks![3]![1]);
    const v = await models.embedder.embed(image, face!);
    expect(v).toHaveLength(512);
    expect(Math.hypot(...v)).toBeCloseTo(1, 4);
  });

  it('finds a face that fills the whole picture (a tight crop), thanks to the padded retry', async () => {
    const image = await decodeImage(data('faces_deepface/person01/img1.jpg'));
    const [face] = await models.detector.detect(image);
    const side = Math.round(Math.min(face!.box.width, face!.box.height) * 0.95);
    const tight = await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
      .extract({ left: Math.round(face!.box.x + (face!.box.width - side) / 2), top: Math.round(face!.box.y + (face!.box.height - side) / 2), width: side, height: side })
      .png()
      .toBuffer();
    expect((await models.detector.detect(await decodeImage(tight))).length).toBeGreaterThanOrEqual(1);
  });

  it('refuses to enrol a photo of two people of equal size, naming it', async () => {
    await expect(actors.enrollActor({ name: 'X', imagePaths: [data('faces_deepface/person01/img1.jpg'), data('faces_deepface/person08/img41.jpg')] })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringMatching(/img41\.jpg: 2 faces of similar size/),
    });
    expect((await store.actors.listActors(null, { first: 1 })).totalCount).toBe(0);
    expect(await store.vectors.count('actor_faces')).toBe(0);
  });

  it('faces eval on a subset: enrolled people found, a stranger rejected, an unusable gallery picture skipped', async () => {
    const manifest = {
      task: 'faces',
      gallery: [
        { identity: 'person01', images: ['faces_deepface/person01/img1.jpg', 'faces_deepface/person01/img2.jpg'] },
        { identity: 'person02', images: ['faces_deepface/person02/img26.jpg', 'faces_deepface/person02/img27.jpg'] },
        { identity: 'person08', images: ['faces_deepface/person08/img38.jpg', 'faces_deepface/person08/img41.jpg'] },
      ],
      queries: [
        { image: 'faces_deepface/person01/img6.jpg', identity: 'person01' },
        { image: 'faces_deepface/person02/img42.jpg', identity: 'person02' },
        { image: 'faces_deepface/person08/img39.jpg', identity: 'person08' },
        { image: 'faces_deepface/person11/img20.jpg', identity: null },
      ],
    };
    const progress: string[] = [];
    const app = { services: { actors } } as unknown as App;
    const metrics = await facesTask.run(manifest, {
      app,
      options: {},
      resolve: (rel) => data(rel),
      progress: (line) => progress.push(line),
      indexVideos: async () => new Map(),
    });
    expect(metrics).toMatchObject({ queries: 4, rank1: 1, knownAccuracy: 1, unknownRejection: 1, skippedGallery: 1 });
    expect(metrics.msPerImage).toBeGreaterThan(0);
    expect(progress.some((line) => line.includes('img41.jpg'))).toBe(true);
    // Five usable gallery pictures, each stored as itself and mirrored (two templates a picture).
    expect(await store.vectors.count('actor_faces')).toBe(10);
  });
});
