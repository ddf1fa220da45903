// Pipeline stage "voices": who is speaking when. The video's audio → Silero VAD → speaker turns →
// one embedding per turn → diarisation (turns of one voice cluster together, so unknown voices
// group too) → each cluster identified against the enrolled voices → VOICE appearance spans.
// Each cluster is also linked to the face track that is alone on screen while it speaks (active
// speaker), recorded in the stage output for fusion with faces.
import type { VideoRecord } from '../domain.js';
import { errorMessage } from '../errors.js';
import { extractAudioPcm } from '../media/frames.js';
import { loadVoiceModels, VOICE_SAMPLE_RATE, type VoiceModels } from '../models/voice/index.js';
import { createVoiceService, type VoiceMatch } from '../services/voices.js';
import type { AppearanceSpanRecord } from '../store/appearances.js';
import { activeSpeakerTrack, clusterVoices, speakerTurns, type SpeakerTurn } from './diarisation.js';
import type { Stage, StageContext } from './stage.js';

/** Turns of one identified voice closer than this are one span (pauses between sentences). */
export const SPAN_MERGE_GAP_SEC = 1.0;

export interface VoiceClusterSummary {
  label: number;
  turns: number;
  speechSec: number;
  actorId: string | null;
  similarity: number | null;
  /** The face track alone on screen for most of this voice's speech, if any. */
  activeTrackId: string | null;
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
}

const decode = (ctx: StageContext, file: string, signal?: AbortSignal): Promise<Float32Array> =>
  extractAudioPcm(ctx.media, file, { sampleRate: VOICE_SAMPLE_RATE, channels: 1, signal });

const defaultDeps: VoicesStageDeps = {
  models: (ctx) => loadVoiceModels({ modelDir: ctx.config.modelDir }),
  audio: (ctx) => decode(ctx, ctx.video.path, ctx.signal),
  identify: (ctx, embedding) =>
    // The voice service owns the calibrated threshold and the template collection's model checks.
    createVoiceService({
      store: ctx.store,
      config: ctx.config,
      log: ctx.log,
      models: () => loadVoiceModels({ modelDir: ctx.config.modelDir }),
      decodeAudio: (file, signal) => decode(ctx, file, signal),
    }).identifyVoice(embedding),
};

function meanDirection(vectors: readonly Float32Array[]): Float32Array {
  const mean = new Float32Array(vectors[0]!.length);
  for (const v of vectors) for (let i = 0; i < mean.length; i++) mean[i]! += v[i]!;
  let norm = 0;
  for (const v of mean) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  return mean.map((v) => v / norm);
}

/** Consecutive turns of one actor, gaps under SPAN_MERGE_GAP_SEC bridged, as VOICE spans. */
export function voiceSpans(video: Pick<VideoRecord, 'id'>, turnsByActor: ReadonlyMap<string, { turns: SpeakerTurn[]; confidence: number }>): AppearanceSpanRecord[] {
  const spans: AppearanceSpanRecord[] = [];
  for (const [actorId, { turns, confidence }] of turnsByActor) {
    const sorted = [...turns].sort((a, b) => a.start - b.start);
    let current: AppearanceSpanRecord | null = null;
    for (const turn of sorted) {
      if (current && turn.start - current.end <= SPAN_MERGE_GAP_SEC) {
        current.end = Math.max(current.end, turn.end);
        current.sourceIds.push(turn.id);
        continue;
      }
      current = { id: `${video.id}:voice:${spans.length}`, videoId: video.id, actorId, start: turn.start, end: turn.end, confidence, evidence: 'VOICE', sourceIds: [turn.id], bestFaceId: null };
      spans.push(current);
    }
  }
  return spans.sort((a, b) => a.start - b.start || a.actorId.localeCompare(b.actorId));
}

export function createVoicesStage(overrides: Partial<VoicesStageDeps> = {}): Stage<unknown, VoicesStageOutput> {
  const deps: VoicesStageDeps = { ...defaultDeps, ...overrides };
  return {
    name: 'voices',
    weight: 1,
    async run(ctx) {
      const { video, store, log } = ctx;
      const empty = (skipped: string | null, audioSec = 0, modelId: string | null = null): VoicesStageOutput => ({ skipped, audioSec, speechSec: 0, turns: 0, clusters: [], voiceSpans: 0, modelId });
      if (!video.hasAudio) {
        await store.appearances.replaceSpans(video.id, 'VOICE', []);
        return empty('no audio track');
      }
      let pcm: Float32Array;
      try {
        pcm = await deps.audio(ctx);
      } catch (err) {
        ctx.signal.throwIfAborted();
        // A damaged audio track must not fail the whole video: pictures and text still index.
        log.warn({ videoId: video.id, err: errorMessage(err) }, 'voices: audio could not be decoded; stage skipped');
        await store.appearances.replaceSpans(video.id, 'VOICE', []);
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
      const turnsByActor = new Map<string, { turns: SpeakerTurn[]; confidence: number }>();
      const clusterCount = labels.length ? Math.max(...labels) + 1 : 0;
      const addTurn = (actorId: string, turn: SpeakerTurn, confidence: number): void => {
        const entry = turnsByActor.get(actorId) ?? { turns: [], confidence: 0 };
        entry.turns.push(turn);
        entry.confidence = Math.max(entry.confidence, confidence);
        turnsByActor.set(actorId, entry);
      };
      for (let label = 0; label < clusterCount; label++) {
        const members = embedded.filter((_, i) => labels[i] === label);
        const clusterMatch = await deps.identify(ctx, meanDirection(members.map((m) => m.vector)));
        const memberTurns = members.map((m) => m.turn);
        const active = activeSpeakerTrack(memberTurns, tracks);
        clusters.push({
          label,
          turns: members.length,
          speechSec: memberTurns.reduce((s, t) => s + t.end - t.start, 0),
          actorId: clusterMatch?.actorId ?? null,
          similarity: clusterMatch?.similarity ?? null,
          activeTrackId: active?.trackId ?? null,
        });
        // A turn that matches an enrolled voice on its own keeps that answer: at the same-speaker
        // threshold, clustering can merge two short voices, and the cluster mean then hides one.
        // Turns that match nobody alone inherit their cluster's identity.
        for (const member of members) {
          const own = members.length > 1 ? await deps.identify(ctx, member.vector) : clusterMatch;
          const match = own ?? clusterMatch;
          if (match) addTurn(match.actorId, member.turn, match.confidence);
        }
      }
      const spans = voiceSpans(video, turnsByActor);
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
