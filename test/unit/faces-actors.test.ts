// ActorService on the real SQLite actor tables, an in-memory cosine vector index and fake face
// models (a picture's size decides what the "detector" sees), so every rule is tested fast.
import { Readable } from 'node:stream';
import type { ApolloServer } from '@apollo/server';
import Database from 'better-sqlite3';
import Upload from 'graphql-upload/Upload.mjs';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Role } from '../../src/config.js';
import { AppError } from '../../src/errors.js';
import { createApolloServer } from '../../src/http/graphql.js';
import { MediaUrlSigner } from '../../src/http/media-urls.js';
import { createLogger } from '../../src/logger.js';
import type { FaceModels } from '../../src/models/faces/index.js';
import type { DetectedFace, RawImage } from '../../src/models/types.js';
import { dominantFace } from '../../src/services/actor-pictures.js';
import { confidenceFromSimilarity, createActorService, FACE_MATCH_THRESHOLD, type ActorService } from '../../src/services/actors.js';
import { ACTORS_MIGRATION_SQL, EmbeddedActorRepository } from '../../src/store/embedded/actors.js';
import { createRequestContext, type RequestContext } from '../../src/resolvers/context.js';
import { FakeAppearanceRepository } from '../helpers/fake-appearances.js';
import { buildVidsearchSchema } from '../../src/resolvers/schema.js';
import type { Services } from '../../src/services/index.js';
import type { Store, VectorCollectionSpec, VectorHit, VectorIndex, VectorPoint } from '../../src/store/interfaces.js';

/** Brute-force cosine index that reports 'model-changed' (and drops vectors) like the real ones. */
class MemoryVectors implements Pick<VectorIndex, 'ensureCollection' | 'upsert' | 'search' | 'delete' | 'count'> {
  readonly points = new Map<string, VectorPoint>();
  modelId: string | null = null;
  async ensureCollection(spec: VectorCollectionSpec): Promise<'created' | 'ok' | 'model-changed'> {
    if (this.modelId === spec.modelId) return 'ok';
    const state = this.modelId === null ? 'created' : 'model-changed';
    this.modelId = spec.modelId;
    this.points.clear();
    return state;
  }
  async upsert(_collection: string, points: readonly VectorPoint[]): Promise<void> {
    for (const p of points) this.points.set(p.id, p);
  }
  async search(_collection: string, vector: Float32Array, limit: number): Promise<VectorHit[]> {
    return [...this.points.values()]
      .map((p) => ({ id: p.id, payload: p.payload, score: p.vector.reduce((s, v, i) => s + v * vector[i]!, 0) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, limit);
  }
  async delete(_collection: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) this.points.delete(id);
  }
  async count(): Promise<number> {
    return this.points.size;
  }
}

const FACE = (x: number, side: number): DetectedFace => ({
  box: { x, y: 10, width: side, height: side },
  score: 0.9,
  landmarks: [
    [x + side * 0.3, 10 + side * 0.4],
    [x + side * 0.7, 10 + side * 0.4],
    [x + side * 0.5, 10 + side * 0.6],
    [x + side * 0.35, 10 + side * 0.8],
    [x + side * 0.65, 10 + side * 0.8],
  ],
});

/** Picture width → what the fake detector finds. */
const SCENES: Record<number, DetectedFace[]> = {
  200: [FACE(20, 120)],
  201: [],
  202: [FACE(10, 80), FACE(100, 78)],
  203: [FACE(10, 120), FACE(150, 40)],
};

function fakeModels(modelId = 'fake-embedder'): FaceModels {
  return {
    detector: { modelId: 'fake-detector', detect: async (image: RawImage) => SCENES[image.width] ?? [] },
    embedder: {
      modelId,
      dim: 3,
      // The picture's colour (at its centre) is its identity.
      async embed(image: RawImage) {
        const centre = (Math.floor(image.height / 2) * image.width + Math.floor(image.width / 2)) * 3;
        const [r, g, b] = [image.data[centre]!, image.data[centre + 1]!, image.data[centre + 2]!];
        const n = Math.hypot(r, g, b) || 1;
        return Float32Array.from([r / n, g / n, b / n]);
      },
    },
  };
}

function picture(width: number, colour: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height: 150, channels: 3, background: { r: colour[0], g: colour[1], b: colour[2] } } }).png().toBuffer();
}

const RED: [number, number, number] = [220, 30, 30];
const BLUE: [number, number, number] = [30, 30, 220];

let db: Database.Database;
let vectors: MemoryVectors;
let service: ActorService;
let models: FaceModels;

function build(): ActorService {
  const repo = new EmbeddedActorRepository(db);
  const store = { vectors, actors: repo, appearances: new FakeAppearanceRepository() } as unknown as Store & { actors: EmbeddedActorRepository };
  return createActorService({ store, config: { mediaRoots: [process.cwd()] }, log: createLogger('silent'), models: async () => models, maxImagePixels: 1_000_000 });
}

beforeEach(() => {
  db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  db.exec(ACTORS_MIGRATION_SQL);
  vectors = new MemoryVectors();
  models = fakeModels();
  service = build();
});
afterEach(() => db.close());

async function expectBadInput(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('BAD_USER_INPUT');
  expect((err as AppError).message).toMatch(pattern);
}

const rowCount = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('dominantFace', () => {
  it('takes the largest face only when it is clearly bigger than the next', () => {
    expect(dominantFace([])).toBe('no face found');
    expect(dominantFace([FACE(0, 80), FACE(100, 78)])).toMatch(/similar size/);
    expect(dominantFace([FACE(150, 40), FACE(10, 120)])).toEqual(FACE(10, 120));
    expect(dominantFace([FACE(0, 20)])).toMatch(/smaller than/);
  });
});

describe('enrollActor', () => {
  it('stores the actor, two templates per picture (as taken and mirrored) with aligned thumbnails, and the vectors', async () => {
    const actor = await service.enrollActor({
      name: '  Ada  ',
      aliases: ['A', 'A', ' '],
      images: [{ filename: 'a.png', data: await picture(200, RED) }],
      imagesBase64: [`data:image/png;base64,${(await picture(203, RED)).toString('base64')}`],
    });
    expect(actor).toMatchObject({ name: 'Ada', aliases: ['A'] });
    expect(await service.faceCounts([actor.id, 'nobody'])).toEqual([4, 0]);
    expect(vectors.points.size).toBe(4);
    expect([...vectors.points.values()].every((p) => p.payload.actorId === actor.id)).toBe(true);
    const thumb = await service.thumbnail(actor.id);
    expect((await sharp(thumb!).metadata()).width).toBe(112);
    // Each picture as taken, then its mirror image; the first stays the actor's thumbnail.
    const templates = await new EmbeddedActorRepository(db).listFaceTemplates(actor.id);
    expect(templates.map((t) => t.source).sort()).toEqual(['a.png', 'a.png (mirrored)', 'imagesBase64[0]', 'imagesBase64[0] (mirrored)'].sort());
    expect(templates[0]!.source.endsWith('(mirrored)')).toBe(false);
    const asTaken = templates.find((t) => t.source === 'a.png')!;
    const mirrored = templates.find((t) => t.source === 'a.png (mirrored)')!;
    const pixels = async (jpeg: Buffer | null, flop: boolean) => sharp(jpeg!).flop(flop).greyscale().raw().toBuffer();
    const [a, b] = await Promise.all([pixels(asTaken.thumbnail, true), pixels(mirrored.thumbnail, false)]);
    const meanDiff = a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length;
    expect(meanDiff).toBeLessThan(4);
  });

  it.each([
    ['no face', 201, /no face/],
    ['several equal faces', 202, /similar size/],
  ])('rejects a picture with %s, naming the file, and stores nothing', async (_case, width, pattern) => {
    const good = await picture(200, RED);
    await expectBadInput(
      service.enrollActor({ name: 'Bob', images: [{ filename: 'good.png', data: good }, { filename: 'bad.png', data: await picture(width, RED) }] }),
      new RegExp(`bad\\.png.*${pattern.source}`),
    );
    expect(rowCount('actors')).toBe(0);
    expect(rowCount('actor_face_templates')).toBe(0);
    expect(vectors.points.size).toBe(0);
  });

  it('rejects bytes that are not an image, and a picture over the pixel limit, storing nothing', async () => {
    await expectBadInput(service.enrollActor({ name: 'C', images: [{ filename: 'notes.txt', data: Buffer.from('hello, not a picture') }] }), /notes\.txt.*not a decodable image/);
    // 2000×1000 = 2 MP over this service's 1 MP limit; sharp's header read sees it without decoding.
    const huge = await sharp({ create: { width: 2000, height: 1000, channels: 3, background: '#888' } }).png().toBuffer();
    await expectBadInput(service.enrollActor({ name: 'C', images: [{ filename: 'huge.png', data: huge }] }), /huge\.png has 2000000 pixels/);
    await expectBadInput(service.enrollActor({ name: 'C', imagesBase64: ['%%%'] }), /imagesBase64\[0\] is not base64/);
    await expectBadInput(service.enrollActor({ name: 'C', imagePaths: ['/etc/passwd'] }), /outside the media roots/);
    expect(rowCount('actors')).toBe(0);
    expect(vectors.points.size).toBe(0);
  });

  it('rejects an empty name and voices when no voice enrolment is wired', async () => {
    await expectBadInput(service.enrollActor({ name: '   ' }), /name must not be empty/);
    await expectBadInput(service.enrollActor({ name: 'V', voices: [{ filename: 'v.wav', data: Buffer.from('x') }] }), /voice enrolment/);
    expect(rowCount('actors')).toBe(0);
  });

  it('undoes the enrolment when storing the vectors fails', async () => {
    vectors.upsert = async () => {
      throw new Error('vector index down');
    };
    await expect(service.enrollActor({ name: 'D', images: [{ filename: 'a.png', data: await picture(200, RED) }] })).rejects.toThrow(/down/);
    expect(rowCount('actors')).toBe(0);
    expect(rowCount('actor_face_templates')).toBe(0);
  });
});

describe('addFaces', () => {
  it('adds usable pictures one by one and counts the skipped ones', async () => {
    const actor = await service.enrollActor({ name: 'E' });
    const result = await service.addFaces(actor.id, {
      images: [
        { filename: 'ok.png', data: await picture(200, BLUE) },
        { filename: 'empty.png', data: await picture(201, BLUE) },
        { filename: 'junk.bin', data: Buffer.from([1, 2, 3]) },
      ],
    });
    expect(result.added).toBe(1);
    expect(result.skipped.map((s) => s.source)).toEqual(['empty.png', 'junk.bin']);
    expect(await service.faceCounts([actor.id])).toEqual([2]);
    await expect(service.addFaces('missing', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('identifyFace', () => {
  it('names the enrolled person above the threshold and answers unknown below it', async () => {
    const red = await service.enrollActor({ name: 'Red', images: [{ filename: 'r.png', data: await picture(200, RED) }] });
    await service.enrollActor({ name: 'Blue', images: [{ filename: 'b.png', data: await picture(200, BLUE) }] });
    const reddish = Float32Array.from([0.99, 0.1, 0.1].map((v) => v / Math.hypot(0.99, 0.1, 0.1)));
    const match = await service.identifyFace(reddish);
    expect(match?.actorId).toBe(red.id);
    expect(match!.confidence).toBeGreaterThan(0.5);
    // Orthogonal to every enrolled colour's direction except a sliver: below the threshold.
    expect(await service.identifyFace(Float32Array.from([0, 1, 0]))).toBeNull();
    await expectBadInput(service.identifyFace(new Float32Array(5)), /embedding has 5 values/);
  });

  it('maps similarity to confidence: 0.5 at the threshold, rising with similarity', () => {
    expect(confidenceFromSimilarity(FACE_MATCH_THRESHOLD)).toBeCloseTo(0.5);
    expect(confidenceFromSimilarity(0.8)).toBeGreaterThan(0.95);
    expect(confidenceFromSimilarity(0.2)).toBeLessThan(0.05);
  });

  it('re-embeds stored templates from their thumbnails when the embedder changes', async () => {
    const red = await service.enrollActor({ name: 'Red', images: [{ filename: 'r.png', data: await picture(200, RED) }] });
    models = fakeModels('another-embedder');
    service = build();
    const match = await service.identifyFace(Float32Array.from([1, 0.1, 0.1].map((v) => v / Math.hypot(1, 0.1, 0.1))));
    expect(match?.actorId).toBe(red.id);
    expect(vectors.modelId).toBe('another-embedder');
  });
});

describe('update, list and delete', () => {
  it('edits names and aliases, finds actors by name or alias, and deletes every template', async () => {
    const ada = await service.enrollActor({ name: 'Ada Lovelace', images: [{ filename: 'a.png', data: await picture(200, RED) }] });
    await service.enrollActor({ name: 'Grace Hopper', aliases: ['Amazing Grace'] });
    await service.enrollActor({ name: 'alan turing' });

    const updated = await service.updateActor(ada.id, { aliases: ['Countess'] });
    expect(updated).toMatchObject({ name: 'Ada Lovelace', aliases: ['Countess'] });
    expect((await service.listActors('countess')).edges.map((e) => e.node.id)).toEqual([ada.id]);
    expect((await service.listActors('grace')).totalCount).toBe(1);

    const first = await service.listActors(null, 2);
    expect(first.edges.map((e) => e.node.name)).toEqual(['Ada Lovelace', 'alan turing']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await service.listActors(null, 2, first.pageInfo.endCursor);
    expect(second.edges.map((e) => e.node.name)).toEqual(['Grace Hopper']);
    expect(second.totalCount).toBe(3);

    await service.deleteActor(ada.id);
    expect(await service.getActor(ada.id)).toBeNull();
    expect(rowCount('actor_face_templates')).toBe(0);
    expect(await vectors.count()).toBe(0);
    await expect(service.deleteActor(ada.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.updateActor('nope', { name: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('GraphQL: actors', () => {
  let server: ApolloServer<RequestContext>;
  const signer = new MediaUrlSigner(Buffer.from('faces-graphql-test-secret-0123456789'));

  beforeAll(async () => {
    server = createApolloServer({ schema: await buildVidsearchSchema(), log: createLogger('silent') });
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  async function gql(query: string, variables: Record<string, unknown> = {}, role: Role = 'editor') {
    const services = { actors: service } as unknown as Services;
    const contextValue = createRequestContext({ services, apiKeys: new Map([['key', role]]), mediaUrls: signer }, 'Bearer key');
    const response = await server.executeOperation({ query, variables }, { contextValue });
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    const { data, errors } = response.body.singleResult;
    return { data: data as Record<string, never> | null | undefined, codes: (errors ?? []).map((e) => e.extensions?.code), errors };
  }

  function upload(filename: string, data: Buffer): Upload {
    const file = new Upload();
    file.resolve({ filename, mimetype: 'image/png', encoding: '7bit', createReadStream: () => Readable.from([data]) as never });
    return file;
  }

  const ENROL = `mutation($input: EnrollActorInput!) { enrollActor(input: $input) { id name aliases faceCount thumbnailUrl } }`;

  it('enrols from an upload and base64, lists, renames and deletes', async () => {
    const enrolled = await gql(ENROL, {
      input: {
        name: 'Ada',
        aliases: ['Countess'],
        images: [upload('ada.png', await picture(200, RED))],
        imagesBase64: [(await picture(203, RED)).toString('base64')],
      },
    });
    expect(enrolled.errors).toBeUndefined();
    const actor = enrolled.data!.enrollActor as { id: string; faceCount: number; thumbnailUrl: string; aliases: string[] };
    expect(actor).toMatchObject({ faceCount: 4, aliases: ['Countess'] });
    expect(actor.thumbnailUrl).toMatch(new RegExp(`^/media/actor/${actor.id}\\.jpg\\?exp=\\d+&sig=`));

    const listed = await gql(`{ actors(query: "count", first: 5) { totalCount edges { node { id name faceCount } } } }`, {}, 'search');
    expect(listed.data!.actors).toEqual({ totalCount: 1, edges: [{ node: { id: actor.id, name: 'Ada', faceCount: 4 } }] });

    const renamed = await gql(`mutation($id: ID!) { updateActor(id: $id, input: { name: "Ada L." }) { name aliases } }`, { id: actor.id });
    expect(renamed.data!.updateActor).toEqual({ name: 'Ada L.', aliases: ['Countess'] });

    expect((await gql(`mutation($id: ID!) { deleteActor(id: $id) }`, { id: actor.id })).data!.deleteActor).toBe(true);
    expect((await gql(`query($id: ID!) { actor(id: $id) { id } }`, { id: actor.id })).data!.actor).toBeNull();
    expect(vectors.points.size).toBe(0);
  });

  it('answers BAD_USER_INPUT naming the file when one picture has no face, and stores nothing', async () => {
    const result = await gql(ENROL, { input: { name: 'Bob', images: [upload('ok.png', await picture(200, RED)), upload('empty.png', await picture(201, RED))] } });
    expect(result.codes).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.message).toMatch(/empty\.png: no face found/);
    expect(rowCount('actors')).toBe(0);
  });

  it('lets only editors enrol, update and delete', async () => {
    const result = await gql(ENROL, { input: { name: 'Eve' } }, 'search');
    expect(result.codes).toEqual(['FORBIDDEN']);
    expect((await gql(`mutation { deleteActor(id: "x") }`, {}, 'ads')).codes).toEqual(['FORBIDDEN']);
    expect((await gql(`mutation { deleteActor(id: "x") }`)).codes).toEqual(['NOT_FOUND']);
  });
});
