// Voices: enrolment of voice samples for actors (the ActorService hook), speech → speaker
// embedding (VAD, then the embedder on the speech only), and open-set voice identification.
// An actor's voice is one template: the mean of its sample vectors, stored beside them.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import { BadInputError, errorMessage, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { VoiceModels } from '../models/voice/index.js';
import { concatSegments } from '../models/voice/pcm.js';
import { VOICE_SAMPLE_RATE, type VoiceScoring } from '../models/voice/types.js';
import { confidenceOf, statsOf, trialScore, type CohortStats } from '../models/voice/score-normalisation.js';
import type { Store, VectorPayload, VectorPoint } from '../store/interfaces.js';
import type { ActorVoiceHook, ImageUpload, VoiceSamplesInput } from './actors.js';
import { reassignClusters } from './voice-clusters.js';
import { resolveMediaPath } from './media-path.js';

export const ACTOR_VOICES_COLLECTION = 'actor_voices';
export const MAX_ENROL_VOICES = 20;
/** Generous bound on templates per actor when listing them back from the vector index. */
const MAX_POINTS_PER_ACTOR = 1000;
/**
 * Templates compared per query: the vector index ranks by raw cosine and the normalised score
 * re-ranks these, so an actor whose voice sits close to many others cannot hide a better match.
 */
const CANDIDATE_TEMPLATES = 50;

/** Decodes any audio (or the audio of a video) to mono float PCM at 16 kHz. */
export type AudioDecoder = (filePath: string, signal?: AbortSignal) => Promise<Float32Array>;

export interface SpeechEmbedding {
  embedding: Float32Array;
  modelId: string;
  speechSec: number;
  audioSec: number;
}

export interface VoiceCandidate {
  actorId: string;
  /** Cosine similarity to the actor's voice template. */
  similarity: number;
  /** The model's score of the trial: cohort-normalised (impostor standard deviations) or the cosine. */
  score: number;
}

export interface VoiceMatch extends VoiceCandidate {
  /** 0..1, 0.5 at the model's threshold for the query's speech duration. */
  confidence: number;
}

export interface VoiceRanking {
  /** The enrolled voices closest to the query, best score first. */
  candidates: VoiceCandidate[];
  /** The score a match needs at the query's speech duration. */
  threshold: number;
}

/** A voice to identify: its embedding and how much speech it was made from (short queries scatter). */
export interface VoiceQuery {
  embedding: Float32Array;
  speechSec: number;
}

export interface AddVoicesResult {
  added: number;
  skipped: { source: string; reason: string }[];
}

export interface VoiceService extends ActorVoiceHook {
  /** Speech of the PCM (VAD) embedded as one voice; null when there is too little speech. */
  embedSpeech(pcm: Float32Array, signal?: AbortSignal): Promise<SpeechEmbedding | null>;
  /**
   * Decodes a server-side file (already checked against the media roots) and embeds its speech,
   * or only the speech inside `window` (seconds of the file) when given.
   */
  embedAudioFile(filePath: string, options?: { signal?: AbortSignal; window?: { start: number; end: number } }): Promise<{ audioSec: number; voice: SpeechEmbedding | null }>;
  /**
   * Open-set identification: the actor with the best (normalised) score, when it reaches the
   * model's threshold for this much speech; else null (unknown).
   */
  identifyVoice(voice: VoiceQuery): Promise<VoiceMatch | null>;
  /** Every enrolled voice near the query with its score, and the threshold for the query's speech (evals, DET curves). */
  rankVoices(voice: VoiceQuery): Promise<VoiceRanking>;
  /** Adds usable samples one at a time; unusable ones are skipped and reported, not fatal. */
  addVoices(actorId: string, input: VoiceSamplesInput): Promise<AddVoicesResult>;
  /** Voice samples per actor, same order as `actorIds`. */
  voiceCounts(actorIds: readonly string[]): Promise<number[]>;
  /**
   * Adds already-embedded voices (a named or face-linked voice cluster) as samples of the actor;
   * vectors of another speaker model are refused (returns how many were added).
   */
  addTemplateVectors(actorId: string, samples: readonly { vector: Float32Array; source: string; speechSec: number; modelId: string }[]): Promise<number>;
  /** mergeActors: the source's voice samples become the target's, and both templates are recomputed. */
  moveTemplates(sourceId: string, targetId: string): Promise<void>;
}

export interface VoiceServiceDeps {
  store: Store;
  config: Pick<Config, 'mediaRoots'>;
  log: Logger;
  models: () => Promise<VoiceModels>;
  decodeAudio: AudioDecoder;
}

/** Why a sample cannot be used: enrolment turns it into BAD_USER_INPUT, addVoices into a skip. */
class UnusableSample extends Error {}

interface VoiceSource {
  label: string;
  /** Decoded 16 kHz mono PCM. */
  decode(): Promise<Float32Array>;
}

const centroidId = (actorId: string): string => `${actorId}:voice`;

function templateStats(payload: VectorPayload): CohortStats | null {
  const { cohortMean, cohortStd } = payload;
  return typeof cohortMean === 'number' && typeof cohortStd === 'number' ? { mean: cohortMean, std: cohortStd } : null;
}

export function createVoiceService(deps: VoiceServiceDeps): VoiceService {
  const { store, log } = deps;

  async function ensureCollection(): Promise<VoiceModels> {
    const models = await deps.models();
    const state = await store.vectors.ensureCollection({ name: ACTOR_VOICES_COLLECTION, dim: models.embedder.dim, metric: 'cosine', modelId: models.embedder.modelId });
    if (state === 'model-changed') log.warn({ modelId: models.embedder.modelId }, 'speaker model changed: old voice templates were dropped, re-enrol voices');
    return models;
  }

  async function embedSpeech(pcm: Float32Array, signal?: AbortSignal): Promise<SpeechEmbedding | null> {
    const { vad, embedder } = await deps.models();
    const segments = await vad.detect(pcm, {}, signal);
    const speech = concatSegments(pcm, segments);
    const embedding = speech.length ? await embedder.embed(speech) : null;
    if (!embedding) return null;
    return { embedding, modelId: embedder.modelId, speechSec: speech.length / VOICE_SAMPLE_RATE, audioSec: pcm.length / VOICE_SAMPLE_RATE };
  }

  function sources(input: VoiceSamplesInput): VoiceSource[] {
    const list: VoiceSource[] = [];
    for (const requested of input.voicePaths ?? []) {
      list.push({ label: requested, decode: async () => deps.decodeAudio(await resolveMediaPath(requested, deps.config.mediaRoots)) });
    }
    (input.voices ?? []).forEach((upload: ImageUpload, i) => {
      list.push({ label: upload.filename || `upload #${i + 1}`, decode: () => decodeUpload(upload) });
    });
    if (list.length > MAX_ENROL_VOICES) throw new BadInputError(`at most ${MAX_ENROL_VOICES} voice samples per call, got ${list.length}`, { field: 'voices' });
    return list;
  }

  async function decodeUpload(upload: ImageUpload): Promise<Float32Array> {
    // ffmpeg probes formats best from a seekable file; the upload lives only as long as the decode.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-voice-'));
    try {
      const file = path.join(dir, `sample${path.extname(upload.filename).replace(/[^.\w]/g, '')}`);
      await writeFile(file, upload.data);
      return await deps.decodeAudio(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function prepareSample(source: VoiceSource): Promise<SpeechEmbedding> {
    let pcm: Float32Array;
    try {
      pcm = await source.decode();
    } catch (err) {
      if (err instanceof BadInputError) throw err;
      throw new UnusableSample(`no decodable audio (${errorMessage(err).split('\n')[0]})`);
    }
    const embedded = await embedSpeech(pcm);
    if (!embedded) throw new UnusableSample(pcm.length === 0 ? 'the audio is empty' : 'no speech found (at least 1 s of speech is needed)');
    return embedded;
  }

  async function actorPointIds(actorId: string): Promise<string[]> {
    return (await store.vectors.scroll(ACTOR_VOICES_COLLECTION, { actorIds: [actorId] }, MAX_POINTS_PER_ACTOR)).map((p) => p.id);
  }

  /** Stores the samples and recomputes the actor's template (mean of all its sample vectors). */
  async function storeSamples(actorId: string, samples: readonly { source: string; embedded: SpeechEmbedding }[]): Promise<void> {
    const models = await ensureCollection();
    const dim = models.embedder.dim;
    const points: VectorPoint[] = samples.map(({ source, embedded }) => ({
      id: `${actorId}:voice:${randomUUID()}`,
      vector: embedded.embedding,
      payload: { actorId, kind: 'sample', source, speechSec: Math.round(embedded.speechSec * 100) / 100 },
    }));
    await store.vectors.upsert(ACTOR_VOICES_COLLECTION, points);
    const ids = (await actorPointIds(actorId)).filter((id) => id !== centroidId(actorId));
    const vectors = (await store.vectors.get(ACTOR_VOICES_COLLECTION, ids)).filter((p): p is VectorPoint => p !== null);
    const mean = new Float32Array(dim);
    for (const point of vectors) for (let i = 0; i < dim; i++) mean[i]! += point.vector[i]!;
    let norm = 0;
    for (const v of mean) norm += v * v;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < dim; i++) mean[i]! /= norm;
    // The template's cohort statistics are kept with it: every query needs them.
    const stats = statsOf(models.embedder.scoring, mean);
    const payload = { actorId, kind: 'template', samples: vectors.length, ...(stats ? { cohortMean: stats.mean, cohortStd: stats.std } : {}) };
    await store.vectors.upsert(ACTOR_VOICES_COLLECTION, [{ id: centroidId(actorId), vector: mean, payload }]);
  }

  async function rankVoices({ embedding, speechSec }: VoiceQuery): Promise<VoiceRanking> {
    const models = await ensureCollection();
    const { scoring } = models.embedder;
    if (embedding.length !== models.embedder.dim) throw new BadInputError(`voice embedding has ${embedding.length} values, the speaker model makes ${models.embedder.dim}`);
    const hits = await store.vectors.search(ACTOR_VOICES_COLLECTION, embedding, CANDIDATE_TEMPLATES, { equals: { kind: 'template' } });
    const queryStats = statsOf(scoring, embedding);
    const candidates: VoiceCandidate[] = [];
    for (const hit of hits) {
      if (typeof hit.payload.actorId !== 'string') continue;
      const score = trialScore(hit.score, queryStats, templateStats(hit.payload) ?? (await recomputedStats(scoring, hit.id)));
      candidates.push({ actorId: hit.payload.actorId, similarity: hit.score, score });
    }
    candidates.sort((a, b) => b.score - a.score);
    return { candidates, threshold: scoring.threshold(speechSec) };
  }

  /** Cohort statistics of a template stored without them (written before its payload carried them). */
  async function recomputedStats(scoring: VoiceScoring, id: string): Promise<CohortStats | null> {
    if (!scoring.normaliser) return null;
    const [point] = await store.vectors.get(ACTOR_VOICES_COLLECTION, [id]);
    return point ? scoring.normaliser.stats(point.vector) : null;
  }

  return {
    embedSpeech,

    async embedAudioFile(filePath, { signal, window } = {}) {
      const whole = await deps.decodeAudio(filePath, signal);
      const pcm = window ? whole.subarray(Math.round(window.start * VOICE_SAMPLE_RATE), Math.round(window.end * VOICE_SAMPLE_RATE)) : whole;
      return { audioSec: pcm.length / VOICE_SAMPLE_RATE, voice: await embedSpeech(pcm, signal) };
    },

    async prepare(samples) {
      await ensureCollection();
      const prepared: { source: string; embedded: SpeechEmbedding }[] = [];
      for (const source of sources(samples)) {
        try {
          prepared.push({ source: source.label, embedded: await prepareSample(source) });
        } catch (err) {
          if (err instanceof UnusableSample) throw new BadInputError(`${source.label}: ${err.message}`, { file: source.label, field: 'voices' });
          throw err;
        }
      }
      return { count: prepared.length, commit: (actorId: string) => storeSamples(actorId, prepared) };
    },

    async addVoices(actorId, input) {
      if (!(await store.actors.getActor(actorId))) throw new NotFoundError('actor', actorId);
      await ensureCollection();
      const result: AddVoicesResult = { added: 0, skipped: [] };
      const prepared: { source: string; embedded: SpeechEmbedding }[] = [];
      for (const source of sources(input)) {
        try {
          prepared.push({ source: source.label, embedded: await prepareSample(source) });
        } catch (err) {
          if (!(err instanceof UnusableSample)) throw err;
          result.skipped.push({ source: source.label, reason: err.message });
        }
      }
      if (prepared.length) await storeSamples(actorId, prepared);
      result.added = prepared.length;
      return result;
    },

    async deleteForActor(actorId) {
      // No model load: listing and deleting need no embedder.
      const ids = await actorPointIds(actorId);
      if (ids.length) await store.vectors.delete(ACTOR_VOICES_COLLECTION, ids);
      // Voice clusters and turns given to the actor become unknown again (their spans go with the actor).
      const touched = await store.voiceClusters.listOfActor(actorId);
      await store.voiceClusters.update(reassignClusters(touched, actorId, null, new Date().toISOString()));
    },

    async addTemplateVectors(actorId, samples) {
      const models = await ensureCollection();
      const usable = samples.filter((s) => s.modelId === models.embedder.modelId && s.vector.length === models.embedder.dim);
      if (usable.length === 0) return 0;
      await storeSamples(
        actorId,
        usable.map((s) => ({ source: s.source, embedded: { embedding: s.vector, modelId: s.modelId, speechSec: s.speechSec, audioSec: s.speechSec } })),
      );
      return usable.length;
    },

    async moveTemplates(sourceId, targetId) {
      const models = await ensureCollection();
      const ids = (await actorPointIds(sourceId)).filter((id) => id !== centroidId(sourceId));
      const points = (await store.vectors.get(ACTOR_VOICES_COLLECTION, ids)).filter((p): p is VectorPoint => p !== null);
      await store.vectors.delete(ACTOR_VOICES_COLLECTION, [...ids, centroidId(sourceId)]);
      if (points.length === 0) return;
      await storeSamples(
        targetId,
        points.map((p) => {
          const speechSec = typeof p.payload.speechSec === 'number' ? p.payload.speechSec : 0;
          return { source: typeof p.payload.source === 'string' ? p.payload.source : 'merged', embedded: { embedding: p.vector, modelId: models.embedder.modelId, speechSec, audioSec: speechSec } };
        }),
      );
    },

    rankVoices,

    async identifyVoice(voice) {
      const { candidates, threshold } = await rankVoices(voice);
      const best = candidates[0];
      if (!best || best.score < threshold) return null;
      return { ...best, confidence: confidenceOf((await deps.models()).embedder.scoring, best.score, voice.speechSec) };
    },

    async voiceCounts(actorIds) {
      await ensureCollection();
      return Promise.all(actorIds.map((actorId) => store.vectors.count(ACTOR_VOICES_COLLECTION, { actorIds: [actorId], equals: { kind: 'sample' } })));
    },
  };
}
