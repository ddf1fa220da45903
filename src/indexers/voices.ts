// Pipeline stage "voices": who is speaking when. The video's audio → Silero VAD → speaker turns →
// one embedding per turn → diarisation (turns of one voice cluster together, so unknown voices
// group too) → each cluster identified against the enrolled voices → VOICE appearance spans.
// Each cluster is also linked to the face track that is alone on screen while it speaks (active
// speaker), recorded in the stage output for fusion with faces.
import type { VideoRecord } from '../domain.js';
import { errorMessage } from '../errors.js';
import { extractAudioPcm } from '../media/frames.js';
import { loadVoiceModels, VOICE_SAMPLE_RATE, type VoiceModels } from '../models/voice/index.js';
import { VoiceClusterStore, type VoiceClusterOrigin, type VoiceClusterRecord, type VoiceTurnRecord } from '../services/voice-clusters.js';
import { createVoiceService, type VoiceMatch, type VoiceService } from '../services/voices.js';
import type { AppearanceSpanRecord, FaceTrackRecord } from '../store/appearances.js';
import { activeSpeakerTrack, clusterVoices, speakerTurns, type SpeakerTurn } from './diarisation.js';
import type { Stage, StageContext } from './stage.js';
import { stageAudio } from './stage-media.js';

/** Turns of one identified voice closer than this are one span (pauses between sentences). */
export const SPAN_MERGE_GAP_SEC = 1.0;
/** A voice nobody enrolled is the on-screen actor's when that face alone is visible for at least this share of its speech. */
export const FACE_LINK_MIN_SHARE = 0.5;
/**
 * Stricter bar before a face-linked voice becomes a template of the actor: a wrong template would
 * misname the voice in every later video, while a wrong span stays in this one.
 */
export const TEMPLATE_LINK_MIN_SHARE = 0.8;
export const TEMPLATE_MIN_SPEECH_SEC = 3;

/** A speech turn and who it was given to (null: an unknown voice). */
export interface AttributedTurn extends SpeakerTurn {
  actorId: string | null;
  confidence: number;
}

export interface VoiceClusterSummary {
  id: string;
  turns: number;
  speechSec: number;
  actorId: string | null;
  origin: VoiceClusterOrigin | null;
  similarity: number | null;
  /** The face track alone on screen for most of this voice's speech, if any. */
  activeTrackId: string | null;
  /** Whether the cluster's voice became a template of the face's actor. */
  templateLearned: boolean;
}

export interface VoicesStageOutput {
  /** Why nothing was analysed (no audio track, undecodable audio), else null. */
  skipped: string | null;
  audioSec: number;
  speechSec: number;
  turns: number;
  clusters: VoiceClusterSummary[];
  voiceSpans: number;
  modelId: string | null;
}

export interface VoicesStageDeps {
  models(ctx: StageContext): Promise<VoiceModels>;
  audio(ctx: StageContext): Promise<Float32Array>;
  /** Open-set identification of a voice cluster's mean embedding (null: a stranger). */
  identify(ctx: StageContext, embedding: Float32Array): Promise<VoiceMatch | null>;
  /** Adds a voice template to an actor (a face-linked cluster's voice). */
  learn(ctx: StageContext, actorId: string, sample: { vector: Float32Array; source: string; speechSec: number; modelId: string }): Promise<boolean>;
}

const decode = (ctx: StageContext, file: string, signal?: AbortSignal): Promise<Float32Array> =>
  extractAudioPcm(ctx.media, file, { sampleRate: VOICE_SAMPLE_RATE, channels: 1, signal });

// The voice service owns the calibrated threshold and the template collection's model checks.
const voiceServiceOf = (ctx: StageContext): VoiceService =>
  createVoiceService({
    store: ctx.store,
    config: ctx.config,
    log: ctx.log,
    models: () => loadVoiceModels({ modelDir: ctx.config.modelDir }),
    decodeAudio: (file, signal) => decode(ctx, file, signal),
  });

const defaultDeps: VoicesStageDeps = {
  models: (ctx) => loadVoiceModels({ modelDir: ctx.config.modelDir }),
  audio: (ctx) => stageAudio(ctx, VOICE_SAMPLE_RATE),
  identify: (ctx, embedding) => voiceServiceOf(ctx).identifyVoice(embedding),
  learn: async (ctx, actorId, sample) => (await voiceServiceOf(ctx).addTemplateVectors(actorId, [sample])) > 0,
};

function meanDirection(vectors: readonly Float32Array[]): Float32Array {
  const mean = new Float32Array(vectors[0]!.length);
  for (const v of vectors) for (let i = 0; i < mean.length; i++) mean[i]! += v[i]!;
  let norm = 0;
  for (const v of mean) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  return mean.map((v) => v / norm);
}

/** Consecutive turns of one actor, gaps under SPAN_MERGE_GAP_SEC bridged, as VOICE spans (unknown turns make none). */
export function voiceSpans(video: Pick<VideoRecord, 'id'>, turns: readonly AttributedTurn[]): AppearanceSpanRecord[] {
  const spans: AppearanceSpanRecord[] = [];
  const byActor = new Map<string, AttributedTurn[]>();
  for (const turn of turns) if (turn.actorId !== null) byActor.set(turn.actorId, [...(byActor.get(turn.actorId) ?? []), turn]);
  for (const [actorId, own] of byActor) {
    let current: AppearanceSpanRecord | null = null;
    for (const turn of [...own].sort((a, b) => a.start - b.start)) {
      if (current && turn.start - current.end <= SPAN_MERGE_GAP_SEC) {
        current.end = Math.max(current.end, turn.end);
        current.confidence = Math.max(current.confidence, turn.confidence);
        current.sourceIds.push(turn.id);
        continue;
      }
      current = { id: '', videoId: video.id, actorId, start: turn.start, end: turn.end, confidence: turn.confidence, evidence: 'VOICE', sourceIds: [turn.id], bestFaceId: null };
      spans.push(current);
    }
  }
  spans.sort((a, b) => a.start - b.start || a.actorId.localeCompare(b.actorId));
  spans.forEach((span, i) => (span.id = `${video.id}:voice:${i}`));
  return spans;
}

interface ClusterDecision {
  actorId: string | null;
  origin: VoiceClusterOrigin | null;
  confidence: number;
}

/**
 * Who a voice cluster is: its own voice match first; otherwise the identified face that is alone
 * on screen for at least FACE_LINK_MIN_SHARE of its speech, with that face track's confidence.
 */
export function decideCluster(match: VoiceMatch | null, active: { trackId: string; share: number } | null, tracks: readonly Pick<FaceTrackRecord, 'id' | 'actorId' | 'confidence'>[]): ClusterDecision {
  if (match) return { actorId: match.actorId, origin: 'VOICE', confidence: match.confidence };
  const track = active && active.share >= FACE_LINK_MIN_SHARE ? tracks.find((t) => t.id === active.trackId) : undefined;
  if (track?.actorId) return { actorId: track.actorId, origin: 'FACE', confidence: track.confidence };
  return { actorId: null, origin: null, confidence: 0 };
}

export function createVoicesStage(overrides: Partial<VoicesStageDeps> = {}): Stage<unknown, VoicesStageOutput> {
  const deps: VoicesStageDeps = { ...defaultDeps, ...overrides };
  return {
    name: 'voices',
    weight: 1,
    needs: ['probe'],
    // Links speech to the face tracks on screen when the faces stage runs.
    after: ['faces'],
    media: () => ({ audioRates: [VOICE_SAMPLE_RATE] }),
    async run(ctx) {
      const { video, store, log } = ctx;
      const empty = (skipped: string | null, audioSec = 0, modelId: string | null = null): VoicesStageOutput => ({ skipped, audioSec, speechSec: 0, turns: 0, clusters: [], voiceSpans: 0, modelId });
      // A re-index that finds no usable audio drops what an earlier run stored.
      const forgetVoices = async (): Promise<void> => {
        await new VoiceClusterStore(store.vectors).replaceVideo(video.id, [], '');
        await store.appearances.replaceSpans(video.id, 'VOICE', []);
      };
      if (!video.hasAudio) {
        await forgetVoices();
        return empty('no audio track');
      }
      let pcm: Float32Array;
      try {
        pcm = await deps.audio(ctx);
      } catch (err) {
        ctx.signal.throwIfAborted();
        // A damaged audio track must not fail the whole video: pictures and text still index.
        log.warn({ videoId: video.id, err: errorMessage(err) }, 'voices: audio could not be decoded; stage skipped');
        await forgetVoices();
        return empty(`audio not decodable: ${errorMessage(err).split('\n')[0]}`);
      }
      const audioSec = pcm.length / VOICE_SAMPLE_RATE;
      const { vad, embedder } = await deps.models(ctx);
      const segments = await vad.detect(pcm, {}, ctx.signal);
      ctx.reportProgress(0.4);

      const turns = speakerTurns(segments);
      const embedded: { turn: SpeakerTurn; vector: Float32Array }[] = [];
      for (const [i, turn] of turns.entries()) {
        ctx.signal.throwIfAborted();
        const vector = await embedder.embed(pcm.subarray(Math.round(turn.start * VOICE_SAMPLE_RATE), Math.round(turn.end * VOICE_SAMPLE_RATE)));
        if (vector) embedded.push({ turn, vector });
        ctx.reportProgress(0.4 + (0.5 * (i + 1)) / turns.length);
      }

      const labels = clusterVoices(embedded.map((e) => e.vector), embedder.matchThreshold);
      const tracks = await store.appearances.getTracksOfVideo(video.id);
      const clusters: VoiceClusterSummary[] = [];
      const records: { record: VoiceClusterRecord; vector: Float32Array }[] = [];
      const clusterCount = labels.length ? Math.max(...labels) + 1 : 0;
      const now = new Date().toISOString();
      for (let label = 0; label < clusterCount; label++) {
        const members = embedded.filter((_, i) => labels[i] === label);
        const centre = meanDirection(members.map((m) => m.vector));
        const clusterMatch = await deps.identify(ctx, centre);
        const memberTurns = members.map((m) => m.turn);
        const active = activeSpeakerTrack(memberTurns, tracks);
        const decision = decideCluster(clusterMatch, active, tracks);
        // A turn that matches an enrolled voice on its own keeps that answer: at the same-speaker
        // threshold, clustering can merge two short voices, and the cluster mean then hides one.
        // Turns that match nobody alone inherit their cluster's identity.
        const turnRecords: VoiceTurnRecord[] = [];
        for (const member of members) {
          const own = members.length > 1 ? await deps.identify(ctx, member.vector) : clusterMatch;
          turnRecords.push(
            own
              ? { ...member.turn, actorId: own.actorId, confidence: own.confidence, ownMatch: true }
              : { ...member.turn, actorId: decision.actorId, confidence: decision.confidence, ownMatch: false },
          );
        }
        const speechSec = memberTurns.reduce((s, t) => s + t.end - t.start, 0);
        const id = `${video.id}:voice-cluster:${label}`;
        const teach = decision.origin === 'FACE' && active !== null && active.share >= TEMPLATE_LINK_MIN_SHARE && speechSec >= TEMPLATE_MIN_SPEECH_SEC;
        const templateLearned = teach ? await deps.learn(ctx, decision.actorId!, { vector: centre, source: `voice cluster ${id}`, speechSec, modelId: embedder.modelId }) : false;
        clusters.push({ id, turns: members.length, speechSec, actorId: decision.actorId, origin: decision.origin, similarity: clusterMatch?.similarity ?? null, activeTrackId: active?.trackId ?? null, templateLearned });
        records.push({
          vector: centre,
          record: {
            id,
            videoId: video.id,
            actorId: decision.actorId,
            origin: decision.origin,
            linkedTrackId: active?.trackId ?? null,
            linkedShare: active?.share ?? 0,
            linkedFaceId: tracks.find((t) => t.id === active?.trackId)?.bestFaceId ?? null,
            turns: turnRecords,
            speechSec,
            modelId: embedder.modelId,
            createdAt: now,
            updatedAt: now,
          },
        });
      }
      await new VoiceClusterStore(store.vectors).replaceVideo(video.id, records, embedder.modelId);
      const spans = voiceSpans(video, records.flatMap((r) => r.record.turns));
      await store.appearances.replaceSpans(video.id, 'VOICE', spans);
      log.info({ videoId: video.id, turns: turns.length, clusters: clusters.length, spans: spans.length }, 'voices indexed');
      return {
        skipped: null,
        audioSec,
        speechSec: segments.reduce((s, x) => s + x.end - x.start, 0),
        turns: turns.length,
        clusters,
        voiceSpans: spans.length,
        modelId: embedder.modelId,
      };
    },
  };
}

export const voicesStage = createVoicesStage();
