// Every environment variable, parsed and typed in one place (see README "Configuration").
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_FUSION_WEIGHTS, fusionWeights, type FusionWeights } from './services/fusion.js';

export type Role = 'search' | 'ads' | 'editor';

export interface IndexingConfig {
  /** Longest segment; longer shots are split into windows of at most this many seconds. */
  maxSegmentSec: number;
  /** Frames per second sampled for shot detection (low resolution). */
  shotSampleFps: number;
  /** Jobs run at once in one process. */
  concurrency: number;
  /** Stages of one job run side by side (VIDSEARCH_STAGE_CONCURRENCY; default: the cores). */
  stageConcurrency: number;
  /** QUEUED jobs kept at most; the oldest beyond this are cancelled (newest-first policy). */
  maxBacklog: number;
  /** A RUNNING job whose heartbeat is older than this is considered crashed and re-queued. */
  staleJobMs: number;
  /** Timeout for one ffprobe call. */
  probeTimeoutMs: number;
  /** Frames per second sampled inside each shot for face detection and tracking. */
  faceSampleFps: number;
  /**
   * Below 720p, face detection also runs on a tiles×tiles grid of each sampled frame (1: whole
   * frame only): small faces in wide shots are found at twice the size, for tiles² more detector
   * passes a frame. 720p and larger sources are detected on the whole frame (src/indexers/faces.ts).
   */
  faceDetectTiles: number;
  /**
   * Enrichment stages to run (faces, ocr, voices, …); null runs them all. The essential stages
   * (probe, shots, segments, subtitles, text) always run.
   */
  enrichmentStages: string[] | null;
  /** Frames per second sampled for image search descriptors (before near-duplicates are dropped). */
  frameFps: number;
  /** A stage gets at least this long before it is abandoned as hung (ffmpeg and model calls included). */
  stageTimeoutMinSec: number;
  /** …plus this many seconds per second of media (long videos take longer). */
  stageTimeoutPerMediaSec: number;
}

/**
 * Caps on GraphQL operations running at once (src/http/admission.ts), for the whole server: with
 * several serving processes each takes its share (gateLimitsFrom), and the shares add up to these.
 */
export interface AdmissionConfig {
  /** Operations without an expensive field, at once (each kind below has its own slots). */
  standard: number;
  /** searchSegments calls at once (1 per serving process on the embedded store, whose FTS ranking is synchronous; 8 on Elasticsearch). */
  textSearches: number;
  /** matchAds/adBreaks calls at once. */
  adMatches: number;
  /** searchByImage calls at once (CNN + ORB on this machine's cores). */
  imageSearches: number;
  /** exportClip calls at once (one ffmpeg each). */
  clipExports: number;
  /** enrollActor calls at once (face and voice models). */
  enrolments: number;
  /** Per query kind (standard, text search, ad matching): calls that may wait for a slot; beyond that RATE_LIMITED at once. */
  queryQueue: number;
  /** The same for kinds whose requests carry pictures or start ffmpeg (image search, enrolment, clip export): a shorter line. */
  mediaQueue: number;
  /** Per kind: longest wait for a slot before RATE_LIMITED. */
  waitSec: number;
}

/** Limits on what one caller may ask of the GraphQL endpoint. */
export interface RequestLimitsConfig {
  /** Requests per second each API key (or client address, without a key) may make on average. */
  ratePerSec: number;
  /** Requests a caller may make back to back after being idle (token bucket size). */
  rateBurst: number;
  /** Deepest selection nesting a query may have. */
  maxQueryDepth: number;
  /** Highest estimated cost of a query (fields × page sizes; see resolvers/limits.ts). */
  maxQueryComplexity: number;
}

/** How searchSegments fuses text relevance and image similarity when a query has both. */
export interface SearchConfig {
  /** Normalised to sum 1; the vector weight keeps similarity ≥ 0.9 above text-only hits (services/fusion.ts). */
  hybridWeights: FusionWeights;
  /**
   * Image search refines the moment from the media between the stored 2-fps samples: the right
   * moment more often on still and talking-head shots, at ~2.8× a query's time (README).
   */
  imageRefineMoment: boolean;
}

export interface Config {
  port: number;
  host: string;
  /** `vidsearch serve` processes answering HTTP (src/commands/serve-cluster.ts); default one per core. */
  workers: number;
  dataDir: string;
  mediaRoots: string[];
  modelDir: string | null;
  apiKeys: Map<string, Role>;
  ffmpegPath: string | null;
  ffprobePath: string | null;
  store: 'embedded' | 'elastic';
  vectors: 'embedded' | 'qdrant';
  queue: 'embedded' | 'bullmq';
  elasticsearchUrl: string | null;
  elasticsearchApiKey: string | null;
  qdrantUrl: string | null;
  qdrantApiKey: string | null;
  redisUrl: string | null;
  /** HMAC secret for signed /media URLs; generated and persisted in the data dir when unset. */
  mediaSecret: string | null;
  indexing: IndexingConfig;
  admission: AdmissionConfig;
  limits: RequestLimitsConfig;
  search: SearchConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The highest TCP port. */
export const MAX_PORT = 65_535;

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(`${name} must be a number ${range}, got "${raw}"`);
  }
  return value;
}

function wholeFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const value = intFrom(env, name, fallback, min);
  if (!Number.isInteger(value)) throw new ConfigError(`${name} must be a whole number ≥ ${min}, got "${env[name]}"`);
  return value;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

export function parseApiKeys(raw: string | undefined): Map<string, Role> {
  const keys = new Map<string, Role>();
  if (!raw) return keys;
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = entry.lastIndexOf(':');
    const key = at > 0 ? entry.slice(0, at) : '';
    const role = at > 0 ? entry.slice(at + 1) : '';
    if (!key || !['search', 'ads', 'editor'].includes(role)) {
      throw new ConfigError(`VIDSEARCH_API_KEYS entry "${entry}" must look like key:search|ads|editor`);
    }
    keys.set(key, role as Role);
  }
  return keys;
}

function hybridWeightsFrom(env: NodeJS.ProcessEnv): FusionWeights {
  const text = intFrom(env, 'VIDSEARCH_HYBRID_TEXT_WEIGHT', DEFAULT_FUSION_WEIGHTS.text, 0);
  const vector = intFrom(env, 'VIDSEARCH_HYBRID_VECTOR_WEIGHT', DEFAULT_FUSION_WEIGHTS.vector, 0);
  try {
    return fusionWeights(text, vector);
  } catch (err) {
    throw new ConfigError(`VIDSEARCH_HYBRID_TEXT_WEIGHT / VIDSEARCH_HYBRID_VECTOR_WEIGHT: ${(err as Error).message}`);
  }
}

const nonEmpty = (v: string | undefined): string | null => (v && v.trim() ? v.trim() : null);

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const apiKeys = parseApiKeys(env.VIDSEARCH_API_KEYS);
  const roots = (env.VIDSEARCH_MEDIA_ROOTS ?? '').split(':').filter(Boolean);
  const workers = wholeFrom(env, 'VIDSEARCH_WORKERS', os.availableParallelism(), 1);
  return {
    port: intFrom(env, 'VIDSEARCH_PORT', 4000, 0, MAX_PORT),
    workers,
    // Without keys every caller is an editor, so only this machine may call.
    host: apiKeys.size === 0 ? '127.0.0.1' : (nonEmpty(env.VIDSEARCH_HOST) ?? '0.0.0.0'),
    dataDir: path.resolve(cwd, env.VIDSEARCH_DATA_DIR || '.vidsearch'),
    mediaRoots: (roots.length ? roots : [cwd]).map((r) => path.resolve(cwd, r)),
    modelDir: nonEmpty(env.VIDSEARCH_MODEL_DIR) ? path.resolve(cwd, env.VIDSEARCH_MODEL_DIR!) : null,
    apiKeys,
    ffmpegPath: nonEmpty(env.VIDSEARCH_FFMPEG),
    ffprobePath: nonEmpty(env.VIDSEARCH_FFPROBE),
    store: oneOf(env, 'VIDSEARCH_STORE', ['embedded', 'elastic'] as const, 'embedded'),
    vectors: oneOf(env, 'VIDSEARCH_VECTORS', ['embedded', 'qdrant'] as const, 'embedded'),
    queue: oneOf(env, 'VIDSEARCH_QUEUE', ['embedded', 'bullmq'] as const, 'embedded'),
    elasticsearchUrl: nonEmpty(env.ELASTICSEARCH_URL),
    elasticsearchApiKey: nonEmpty(env.ELASTICSEARCH_API_KEY),
    qdrantUrl: nonEmpty(env.QDRANT_URL),
    qdrantApiKey: nonEmpty(env.QDRANT_API_KEY),
    redisUrl: nonEmpty(env.REDIS_URL),
    mediaSecret: nonEmpty(env.VIDSEARCH_MEDIA_SECRET),
    indexing: {
      maxSegmentSec: intFrom(env, 'VIDSEARCH_MAX_SEGMENT_SEC', 10, 1),
      shotSampleFps: intFrom(env, 'VIDSEARCH_SHOT_FPS', 10, 1),
      concurrency: intFrom(env, 'VIDSEARCH_INDEX_CONCURRENCY', 1, 1),
      stageConcurrency: intFrom(env, 'VIDSEARCH_STAGE_CONCURRENCY', Math.max(2, os.availableParallelism()), 1),
      maxBacklog: intFrom(env, 'VIDSEARCH_MAX_BACKLOG', 1000, 1),
      staleJobMs: intFrom(env, 'VIDSEARCH_STALE_JOB_MS', 30_000, 1000),
      probeTimeoutMs: intFrom(env, 'VIDSEARCH_PROBE_TIMEOUT_MS', 20_000, 100),
      frameFps: intFrom(env, 'VIDSEARCH_FRAME_FPS', 2, 0.1),
      faceSampleFps: intFrom(env, 'VIDSEARCH_FACE_FPS', 2, 0.1),
      faceDetectTiles: Math.round(intFrom(env, 'VIDSEARCH_FACE_TILES', 2, 1)),
      enrichmentStages: nonEmpty(env.VIDSEARCH_STAGES)?.split(',').map((s) => s.trim()).filter(Boolean) ?? null,
      stageTimeoutMinSec: intFrom(env, 'VIDSEARCH_STAGE_TIMEOUT_MIN_SEC', 900, 1),
      stageTimeoutPerMediaSec: intFrom(env, 'VIDSEARCH_STAGE_TIMEOUT_PER_MEDIA_SEC', 10, 0),
    },
    admission: {
      standard: intFrom(env, 'VIDSEARCH_MAX_QUERIES', 8, 1),
      // The embedded text index answers synchronously: more than one at a time per process only
      // lengthens event-loop turns, so one per serving process.
      textSearches: intFrom(env, 'VIDSEARCH_MAX_TEXT_SEARCHES', env.VIDSEARCH_STORE === 'elastic' ? 8 : workers, 1),
      adMatches: intFrom(env, 'VIDSEARCH_MAX_AD_MATCHES', 4, 1),
      imageSearches: intFrom(env, 'VIDSEARCH_MAX_IMAGE_SEARCHES', 2, 1),
      clipExports: intFrom(env, 'VIDSEARCH_MAX_CLIP_EXPORTS', 2, 1),
      enrolments: intFrom(env, 'VIDSEARCH_MAX_ENROLMENTS', 2, 1),
      queryQueue: intFrom(env, 'VIDSEARCH_QUERY_QUEUE', 1024, 0),
      mediaQueue: intFrom(env, 'VIDSEARCH_ADMISSION_QUEUE', 64, 0),
      waitSec: intFrom(env, 'VIDSEARCH_ADMISSION_WAIT_SEC', 10, 0.1),
    },
    limits: {
      ratePerSec: intFrom(env, 'VIDSEARCH_RATE_PER_SEC', 20, 0.01),
      rateBurst: intFrom(env, 'VIDSEARCH_RATE_BURST', 60, 1),
      maxQueryDepth: intFrom(env, 'VIDSEARCH_MAX_QUERY_DEPTH', 10, 1),
      maxQueryComplexity: intFrom(env, 'VIDSEARCH_MAX_QUERY_COMPLEXITY', 20_000, 1),
    },
    search: { hybridWeights: hybridWeightsFrom(env), imageRefineMoment: oneOf(env, 'VIDSEARCH_IMAGE_REFINE_MOMENT', ['on', 'off'] as const, 'on') === 'on' },
  };
}
