// In-memory Store for unit tests of services and resolvers: follows the interface contracts
// (ordering, null-for-missing, cascade delete) closely enough to test the layers above, and counts
// every method call so tests can prove batching (no N+1). Not a conformance reference: the real
// backends are tested against test/store/.
import { pageOf } from './paging.js';
import type {
  CueKind,
  CueRecord,
  JobRecord,
  JobStatus,
  Page,
  PageArgs,
  SegmentRecord,
  ShotRecord,
  VideoRecord,
} from '../../src/domain.js';
import type { ActorPatch, ActorRecord, ActorRepository, FaceTemplateRecord } from '../../src/store/actors.js';
import { FakeIntroRepository, FakeTechnicalRepository } from './fake-technical.js';
import { FakeFrameEvidenceRepository } from './fake-frame-evidence.js';
import { FakeAppearanceRepository } from './fake-appearances.js';
import { FakeModerationRepository } from './fake-moderation.js';
import { FakeAdRepository, FakeHighlightRepository, FakeTagRepository } from './fake-ads.js';
import { FakeVoiceClusterRepository } from './fake-voice-clusters.js';
import type {
  Catalog,
  EnqueueRequest,
  JobQueue,
  Store,
  TextDocument,
  TextHit,
  TextIndex,
  TextQuery,
  TextSearchResult,
  VectorFilter,
  VectorIndex,
  VectorPayload,
  VectorPoint,
  VectorRecord,
} from '../../src/store/interfaces.js';
import { boundedTotal } from '../../src/store/interfaces.js';
import { checkCueSources } from '../../src/store/catalog-records.js';

/** The filter as a test of payloads: the semantics every vector backend implements (the embedded matrix on its columns). */
export function payloadTest(filter: VectorFilter | undefined): ((payload: VectorPayload) => boolean) | null {
  if (!filter) return null;
  const videoIds = filter.videoIds ? new Set(filter.videoIds) : null;
  const actorIds = filter.actorIds ? new Set(filter.actorIds) : null;
  const equals = filter.equals ? Object.entries(filter.equals) : [];
  if (!videoIds && !actorIds && equals.length === 0) return null;
  return (payload) =>
    (!videoIds || (payload.videoId !== undefined && videoIds.has(payload.videoId))) &&
    (!actorIds || (payload.actorId !== undefined && actorIds.has(payload.actorId))) &&
    equals.every(([key, value]) => payload[key] === value);
}

export class FakeCatalog implements Catalog {
  readonly videos = new Map<string, VideoRecord>();
  readonly shots = new Map<string, ShotRecord[]>();
  readonly segments = new Map<string, SegmentRecord>();
  readonly cues = new Map<string, CueRecord>();
  readonly artifacts = new Map<string, unknown>();

  async putVideo(video: VideoRecord): Promise<void> {
    // Like every backend: an empty cast is stored as none.
    this.videos.set(video.id, { ...video, cast: video.cast?.length ? [...video.cast] : null });
  }
  async getVideo(id: string): Promise<VideoRecord | null> {
    return this.videos.get(id) ?? null;
  }
  async getVideos(ids: readonly string[]): Promise<(VideoRecord | null)[]> {
    return ids.map((id) => this.videos.get(id) ?? null);
  }
  async findVideoByHash(contentHash: string): Promise<VideoRecord | null> {
    return [...this.videos.values()].find((v) => v.contentHash === contentHash) ?? null;
  }
  async listVideos(filter: { series?: string | null; status?: VideoRecord['status'] | null; titleContains?: string | null }, page: PageArgs): Promise<Page<VideoRecord>> {
    const all = [...this.videos.values()]
      .filter((v) => !filter.series || v.series === filter.series)
      .filter((v) => !filter.status || v.status === filter.status)
      .filter((v) => !filter.titleContains || (v.title ?? '').toLowerCase().includes(filter.titleContains.toLowerCase()))
      .sort((a, b) => a.id.localeCompare(b.id));
    return pageOf(all, page);
  }
  async updateVideo(id: string, patch: Partial<VideoRecord>): Promise<VideoRecord | null> {
    const video = this.videos.get(id);
    if (!video) return null;
    await this.putVideo({ ...video, ...patch, updatedAt: new Date().toISOString() });
    return this.videos.get(id)!;
  }
  async deleteVideo(id: string): Promise<boolean> {
    const had = this.videos.delete(id);
    this.shots.delete(id);
    for (const [key, segment] of this.segments) if (segment.videoId === id) this.segments.delete(key);
    for (const [key, cue] of this.cues) if (cue.videoId === id) this.cues.delete(key);
    for (const key of this.artifacts.keys()) if (key.startsWith(`${id}/`)) this.artifacts.delete(key);
    return had;
  }
  async replaceStructure(videoId: string, shots: ShotRecord[], segments: SegmentRecord[]): Promise<void> {
    this.shots.set(videoId, [...shots]);
    for (const [key, segment] of this.segments) if (segment.videoId === videoId) this.segments.delete(key);
    for (const segment of segments) this.segments.set(segment.id, { ...segment });
  }
  async getShots(videoId: string): Promise<ShotRecord[]> {
    return [...(this.shots.get(videoId) ?? [])];
  }
  async getSegment(id: string): Promise<SegmentRecord | null> {
    return this.segments.get(id) ?? null;
  }
  async getSegmentsByIds(ids: readonly string[]): Promise<(SegmentRecord | null)[]> {
    return ids.map((id) => this.segments.get(id) ?? null);
  }
  async getSegmentsOfVideo(videoId: string): Promise<SegmentRecord[]> {
    return [...this.segments.values()].filter((s) => s.videoId === videoId).sort((a, b) => a.index - b.index);
  }
  async listSegments(videoId: string, page: PageArgs): Promise<Page<SegmentRecord>> {
    return pageOf(await this.getSegmentsOfVideo(videoId), page);
  }
  async segmentAt(videoId: string, time: number): Promise<SegmentRecord | null> {
    const segments = await this.getSegmentsOfVideo(videoId);
    return segments.find((s) => s.start <= time && time < s.end) ?? segments.at(-1) ?? null;
  }
  async replaceCues(videoId: string, sources: CueRecord['source'][], cues: CueRecord[]): Promise<void> {
    checkCueSources(sources, cues);
    for (const [key, cue] of this.cues) if (cue.videoId === videoId && sources.includes(cue.source)) this.cues.delete(key);
    for (const cue of cues) this.cues.set(cue.id, { ...cue });
  }
  async getCues(videoId: string, kinds?: CueKind[]): Promise<CueRecord[]> {
    return [...this.cues.values()]
      .filter((c) => c.videoId === videoId && (!kinds || kinds.includes(c.kind)))
      .sort((a, b) => a.start - b.start);
  }
  async getCuesOverlapping(videoId: string, from: number, to: number): Promise<CueRecord[]> {
    return [...this.cues.values()]
      .filter((c) => c.videoId === videoId && c.start <= to && c.end >= from)
      .sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  async getCuesBySegments(segmentIds: readonly string[]): Promise<CueRecord[][]> {
    const all = [...this.cues.values()].sort((a, b) => a.start - b.start);
    return segmentIds.map((id) => all.filter((c) => c.segmentId === id));
  }
  async getCuesByIds(ids: readonly string[]): Promise<(CueRecord | null)[]> {
    return ids.map((id) => this.cues.get(id) ?? null);
  }
  async putArtifact(videoId: string, stage: string, data: unknown): Promise<void> {
    this.artifacts.set(`${videoId}/${stage}`, data);
  }
  async getArtifact<T>(videoId: string, stage: string): Promise<T | null> {
    return (this.artifacts.get(`${videoId}/${stage}`) as T | undefined) ?? null;
  }
  async deleteArtifacts(videoId: string): Promise<void> {
    for (const key of this.artifacts.keys()) if (key.startsWith(`${videoId}/`)) this.artifacts.delete(key);
  }
}

/** Case-insensitive substring match; score = number of query words found; one hit per segment. */
export class FakeTextIndex implements TextIndex {
  readonly docs = new Map<string, TextDocument>();

  async upsert(docs: readonly TextDocument[]): Promise<void> {
    for (const doc of docs) this.docs.set(doc.id, { ...doc });
  }
  async deleteByVideo(videoId: string): Promise<void> {
    for (const [id, doc] of this.docs) if (doc.videoId === videoId) this.docs.delete(id);
  }
  async replaceVideo(videoId: string, docs: readonly TextDocument[]): Promise<void> {
    await this.deleteByVideo(videoId);
    await this.upsert(docs);
  }
  async search(query: TextQuery): Promise<TextSearchResult> {
    const words = query.query.toLowerCase().split(/\s+/).filter(Boolean);
    const best = new Map<string, TextHit>();
    for (const doc of this.docs.values()) {
      if (query.videoIds && !query.videoIds.includes(doc.videoId)) continue;
      if (query.series && doc.series !== query.series) continue;
      if (query.kinds && !query.kinds.includes(doc.kind)) continue;
      if (query.from != null && doc.end < query.from) continue;
      if (query.to != null && doc.start > query.to) continue;
      const lower = doc.text.toLowerCase();
      const score = words.filter((w) => lower.includes(w)).length;
      if (score === 0) continue;
      const previous = best.get(doc.segmentId);
      if (previous && previous.score >= score) continue;
      let snippet = doc.text;
      for (const w of words) snippet = snippet.replace(new RegExp(w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), (m) => `<em>${m}</em>`);
      best.set(doc.segmentId, { doc, score, snippet });
    }
    const ranked = [...best.values()].sort((a, b) => b.score - a.score || a.doc.start - b.doc.start || a.doc.id.localeCompare(b.doc.id));
    return { hits: ranked.slice(query.offset, query.offset + query.limit), ...boundedTotal(ranked.length) };
  }
}

export class FakeVectorIndex implements VectorIndex {
  readonly collections = new Map<string, Map<string, VectorPoint>>();

  async ensureCollection(spec: { name: string }): Promise<'created' | 'ok' | 'model-changed'> {
    if (this.collections.has(spec.name)) return 'ok';
    this.collections.set(spec.name, new Map());
    return 'created';
  }
  async upsert(collection: string, points: readonly VectorPoint[]): Promise<void> {
    const target = this.collections.get(collection) ?? new Map<string, VectorPoint>();
    for (const point of points) target.set(point.id, point);
    this.collections.set(collection, target);
  }
  async search(): Promise<never[]> {
    return [];
  }
  async get(collection: string, ids: readonly string[]): Promise<(VectorPoint | null)[]> {
    return ids.map((id) => this.collections.get(collection)?.get(id) ?? null);
  }
  async delete(collection: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) this.collections.get(collection)?.delete(id);
  }
  async deleteByVideo(videoId: string, collections?: readonly string[]): Promise<void> {
    for (const [name, points] of this.collections) {
      if (collections && !collections.includes(name)) continue;
      for (const [id, point] of points) if (point.payload.videoId === videoId) points.delete(id);
    }
  }
  async count(collection: string): Promise<number> {
    return this.collections.get(collection)?.size ?? 0;
  }
  async scroll(collection: string, filter: VectorFilter | undefined, limit: number): Promise<VectorRecord[]> {
    const test = payloadTest(filter);
    return [...(this.collections.get(collection)?.values() ?? [])]
      .filter((point) => !test || test(point.payload))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map(({ id, payload }) => ({ id, payload }));
  }
}

export class FakeJobQueue implements JobQueue {
  readonly jobs = new Map<string, JobRecord>();
  private nextId = 1;

  async enqueue(req: EnqueueRequest): Promise<JobRecord> {
    const job: JobRecord = {
      id: `job_${this.nextId++}`,
      kind: req.kind,
      videoId: req.videoId,
      request: req.request,
      status: 'QUEUED',
      priority: req.priority ?? 0,
      progress: 0,
      stage: null,
      stagesDone: [],
      error: null,
      attempts: 0,
      workerId: null,
      createdAt: new Date(Date.now() + this.nextId).toISOString(),
      startedAt: null,
      finishedAt: null,
      heartbeatAt: null,
    };
    this.jobs.set(job.id, job);
    return { ...job };
  }
  async get(id: string): Promise<JobRecord | null> {
    const job = this.jobs.get(id);
    return job ? { ...job } : null;
  }
  async getMany(ids: readonly string[]): Promise<(JobRecord | null)[]> {
    return Promise.all(ids.map((id) => this.get(id)));
  }
  async list(status: JobStatus | null, page: PageArgs): Promise<Page<JobRecord>> {
    const all = [...this.jobs.values()].filter((j) => !status || j.status === status).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return pageOf(all, page);
  }
  async activeForVideo(videoId: string): Promise<JobRecord | null> {
    return [...this.jobs.values()].find((j) => j.videoId === videoId && (j.status === 'QUEUED' || j.status === 'RUNNING')) ?? null;
  }
  async claim(workerId: string): Promise<JobRecord | null> {
    const next = [...this.jobs.values()]
      .filter((j) => j.status === 'QUEUED')
      .sort((a, b) => b.priority - a.priority || b.createdAt.localeCompare(a.createdAt))[0];
    if (!next) return null;
    Object.assign(next, { status: 'RUNNING', workerId, startedAt: new Date().toISOString(), attempts: next.attempts + 1 });
    return { ...next };
  }
  private patch(id: string, patch: Partial<JobRecord>): void {
    const job = this.jobs.get(id);
    if (job) Object.assign(job, patch);
  }
  async progress(id: string, progress: { stage: string | null; progress: number; stagesDone?: string[] }): Promise<void> {
    this.patch(id, { stage: progress.stage, progress: progress.progress, ...(progress.stagesDone ? { stagesDone: progress.stagesDone } : {}) });
  }
  async heartbeat(id: string): Promise<void> {
    this.patch(id, { heartbeatAt: new Date().toISOString() });
  }
  async setVideo(id: string, videoId: string): Promise<void> {
    this.patch(id, { videoId });
  }
  async complete(id: string): Promise<void> {
    this.patch(id, { status: 'SUCCEEDED', progress: 1, finishedAt: new Date().toISOString() });
  }
  async fail(id: string, error: string): Promise<void> {
    this.patch(id, { status: 'FAILED', error, finishedAt: new Date().toISOString() });
  }
  async requeue(id: string): Promise<void> {
    this.patch(id, { status: 'QUEUED', workerId: null });
  }
  async cancel(id: string): Promise<JobRecord | null> {
    const job = this.jobs.get(id);
    if (!job) return null;
    if (job.status === 'QUEUED' || job.status === 'RUNNING') Object.assign(job, { status: 'CANCELLED', finishedAt: new Date().toISOString() });
    return { ...job };
  }
  async requeueStale(): Promise<number> {
    return 0;
  }
  async dropOldestBeyond(maxBacklog: number): Promise<number> {
    const queued = [...this.jobs.values()].filter((j) => j.status === 'QUEUED').sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const dropped = queued.slice(maxBacklog);
    for (const job of dropped) job.status = 'CANCELLED';
    return dropped.length;
  }
  async countByStatus(): Promise<Record<JobStatus, number>> {
    const counts: Record<JobStatus, number> = { QUEUED: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0, CANCELLED: 0 };
    for (const job of this.jobs.values()) counts[job.status] += 1;
    return counts;
  }
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const asciiLower = (text: string): string => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

export class FakeActorRepository implements ActorRepository {
  readonly actors = new Map<string, ActorRecord>();
  readonly templates = new Map<string, FaceTemplateRecord>();

  async createActor(actor: ActorRecord, templates: readonly FaceTemplateRecord[]): Promise<void> {
    this.actors.set(actor.id, { ...actor });
    await this.addFaceTemplates(templates);
  }
  async getActor(id: string): Promise<ActorRecord | null> {
    return this.actors.get(id) ?? null;
  }
  async getActors(ids: readonly string[]): Promise<(ActorRecord | null)[]> {
    return ids.map((id) => this.actors.get(id) ?? null);
  }
  async updateActor(id: string, patch: ActorPatch): Promise<ActorRecord | null> {
    const actor = this.actors.get(id);
    if (!actor) return null;
    const updated = { ...actor, ...patch, updatedAt: new Date().toISOString() };
    this.actors.set(id, updated);
    return updated;
  }
  async deleteActor(id: string): Promise<string[] | null> {
    if (!this.actors.delete(id)) return null;
    const removed = [...this.templates.values()].filter((t) => t.actorId === id).map((t) => t.id);
    for (const templateId of removed) this.templates.delete(templateId);
    return removed;
  }
  async listActors(query: string | null, page: PageArgs): Promise<Page<ActorRecord>> {
    const needle = query?.toLowerCase() ?? null;
    const all = [...this.actors.values()]
      .filter((a) => !needle || [a.name, ...a.aliases].some((n) => n.toLowerCase().includes(needle)))
      // The embedded order: name COLLATE NOCASE (ASCII letters folded), then id.
      .sort((a, b) => byCodeUnit(asciiLower(a.name), asciiLower(b.name)) || byCodeUnit(a.id, b.id));
    return pageOf(all, page);
  }
  async addFaceTemplates(templates: readonly FaceTemplateRecord[]): Promise<void> {
    const orphan = templates.find((t) => !this.actors.has(t.actorId));
    if (orphan) throw new Error(`face template ${orphan.id}: no actor ${orphan.actorId}`);
    for (const template of templates) this.templates.set(template.id, { ...template });
  }
  async deleteFaceTemplates(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.templates.delete(id);
  }
  async listFaceTemplates(actorId: string): Promise<FaceTemplateRecord[]> {
    return [...this.templates.values()].filter((t) => t.actorId === actorId).sort((a, b) => byCodeUnit(a.createdAt, b.createdAt) || byCodeUnit(a.id, b.id));
  }
  async getFaceTemplate(id: string): Promise<FaceTemplateRecord | null> {
    return this.templates.get(id) ?? null;
  }
  async countFaceTemplates(actorIds: readonly string[]): Promise<number[]> {
    return actorIds.map((id) => [...this.templates.values()].filter((t) => t.actorId === id).length);
  }
  async allFaceTemplates(): Promise<FaceTemplateRecord[]> {
    return [...this.templates.values()].sort((a, b) => a.actorId.localeCompare(b.actorId) || a.id.localeCompare(b.id));
  }
}

/** Wraps an object so every method call is counted under "<label>.<method>". */
function counted<T extends object>(target: T, label: string, calls: Map<string, number>): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        const key = `${label}.${prop}`;
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
}

export interface FakeStore extends Store {
  /** The raw fakes, for seeding data without counting calls. */
  raw: {
    catalog: FakeCatalog;
    text: FakeTextIndex;
    vectors: FakeVectorIndex;
    jobs: FakeJobQueue;
    actors: FakeActorRepository;
    appearances: FakeAppearanceRepository;
    moderation: FakeModerationRepository;
    technical: FakeTechnicalRepository;
    intro: FakeIntroRepository;
    frameEvidence: FakeFrameEvidenceRepository;
    ads: FakeAdRepository;
    tags: FakeTagRepository;
    highlights: FakeHighlightRepository;
    voiceClusters: FakeVoiceClusterRepository;
  };
  /** Calls per "catalog.getVideos"-style key since creation or the last resetCalls(). */
  calls: Map<string, number>;
  callCount(key: string): number;
  resetCalls(): void;
}

export function createFakeStore(): FakeStore {
  const catalog = new FakeCatalog();
  const raw = {
    catalog,
    text: new FakeTextIndex(),
    vectors: new FakeVectorIndex(),
    jobs: new FakeJobQueue(),
    actors: new FakeActorRepository(),
    appearances: new FakeAppearanceRepository(),
    moderation: new FakeModerationRepository(),
    technical: new FakeTechnicalRepository(),
    intro: new FakeIntroRepository(catalog.videos),
    frameEvidence: new FakeFrameEvidenceRepository(),
    ads: new FakeAdRepository(),
    tags: new FakeTagRepository(),
    highlights: new FakeHighlightRepository(),
    voiceClusters: new FakeVoiceClusterRepository(),
  };
  const calls = new Map<string, number>();
  return {
    raw,
    calls,
    callCount: (key) => calls.get(key) ?? 0,
    resetCalls: () => calls.clear(),
    catalog: counted(raw.catalog, 'catalog', calls),
    text: counted(raw.text, 'text', calls),
    vectors: counted(raw.vectors, 'vectors', calls),
    jobs: counted(raw.jobs, 'jobs', calls),
    actors: counted(raw.actors, 'actors', calls),
    appearances: counted(raw.appearances, 'appearances', calls),
    moderation: counted(raw.moderation, 'moderation', calls),
    technical: counted(raw.technical, 'technical', calls),
    intro: counted(raw.intro, 'intro', calls),
    frameEvidence: counted(raw.frameEvidence, 'frameEvidence', calls),
    ads: counted(raw.ads, 'ads', calls),
    tags: counted(raw.tags, 'tags', calls),
    highlights: counted(raw.highlights, 'highlights', calls),
    voiceClusters: counted(raw.voiceClusters, 'voiceClusters', calls),
    schemaVersion: 1,
    close: async () => {},
  };
}

let sequence = 0;

export function makeVideo(overrides: Partial<VideoRecord> = {}): VideoRecord {
  sequence += 1;
  const now = new Date().toISOString();
  return {
    id: `vid_${String(sequence).padStart(16, '0')}`,
    path: `/media/video-${sequence}.mp4`,
    contentHash: `${String(sequence).padStart(16, '0')}${'ab'.repeat(24)}`,
    title: `Video ${sequence}`,
    series: null,
    season: null,
    episode: null,
    durationSec: 60,
    fps: 25,
    width: 1280,
    height: 720,
    rotation: 0,
    startTime: 0,
    hasAudio: true,
    status: 'READY',
    error: null,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

/** Seeds a video with `segmentCount` 10-second segments, each with one subtitle cue and its text doc. */
export async function seedVideo(
  store: FakeStore,
  opts: { video?: Partial<VideoRecord>; segmentCount?: number; cueText?: (index: number) => string } = {},
): Promise<{ video: VideoRecord; segments: SegmentRecord[]; cues: CueRecord[] }> {
  const video = makeVideo(opts.video);
  const count = opts.segmentCount ?? 3;
  const segments: SegmentRecord[] = Array.from({ length: count }, (_, i) => ({
    id: `${video.id}_seg${i}`,
    videoId: video.id,
    index: i,
    shotIndex: i,
    start: i * 10,
    end: (i + 1) * 10,
    keyframeTime: i * 10 + 5,
  }));
  const shots: ShotRecord[] = segments.map((s) => ({
    id: `${video.id}_shot${s.index}`,
    videoId: video.id,
    index: s.index,
    start: s.start,
    end: s.end,
    keyframeTime: s.keyframeTime,
    transition: s.index === 0 ? 'START' : 'CUT',
  }));
  const cues: CueRecord[] = segments.map((s) => ({
    id: `${s.id}_cue`,
    videoId: video.id,
    segmentId: s.id,
    start: s.start + 1,
    end: s.start + 3,
    text: opts.cueText?.(s.index) ?? `line ${s.index} of ${video.title}`,
    kind: 'SUBTITLE',
    source: 'SIDECAR',
    lang: 'en',
  }));
  await store.raw.catalog.putVideo(video);
  await store.raw.catalog.replaceStructure(video.id, shots, segments);
  await store.raw.catalog.replaceCues(video.id, ['SIDECAR'], cues);
  await store.raw.text.upsert(
    cues.map((c) => ({
      id: c.id,
      videoId: video.id,
      segmentId: c.segmentId!,
      cueId: c.id,
      kind: c.kind,
      start: c.start,
      end: c.end,
      text: c.text,
      series: video.series,
    })),
  );
  return { video, segments, cues };
}
