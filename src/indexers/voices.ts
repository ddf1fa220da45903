// Pipeline stage "voices": who is speaking when. The video's audio → Silero VAD → speaker turns →
// one embedding per turn → diarisation (turns of one voice cluster together, so unknown voices
// group too) → each cluster identified against the enrolled voices → VOICE appearance spans.
// Each cluster is also linked to the face track that is alone on screen while it speaks (active
// speaker), recorded in the stage output for fusion with faces.
import { errorMessage } from '../errors.js';
import { extractAudioPcm } from '../media/frames.js';
import { loadVoiceModels, VOICE_SAMPLE_RATE, type VoiceModels } from '../models/voice/index.js';
import { dot, statsOf, trialScore } from '../models/voice/score-normalisation.js';
import type { VoiceScoring } from '../models/voice/types.js';
import { createVoiceService, type VoiceMatch, type VoiceQuery, type VoiceService } from '../services/voices.js';
import type { FaceTrackRecord } from '../store/appearances.js';
import type { VoiceClusterOrigin, VoiceClusterWithVector, VoiceTurnRecord } from '../store/voice-clusters.js';
import { activeSpeakerTrack, clusterVoices, MIN_TURN_SEC, speakerTurns, type SpeakerTurn, type TimedTrack } from './diarisation.js';
import { awaitPrerequisites, type Stage, type StageContext } from './stage.js';
import { stageAudio } from './stage-media.js';
import { voiceSpans } from './voice-spans.js';
import { namesFromVoices, type SpeakerLink } from './voice-face-link.js';
import { faceSpansFromTracks } from './face-tracking.js';

/** A voice nobody enrolled is the on-screen actor's when that face alone is visible for at least this share of its speech. */
export const FACE_LINK_MIN_SHARE = 0.5;
/**
 * Stricter bar before a face-linked voice becomes a template of the actor: a wrong template would
 * misname the voice in every later video, while a wrong span stays in this one.
 */
export const TEMPLATE_LINK_MIN_SHARE = 0.8;
export const TEMPLATE_MIN_SPEECH_SEC = 3;

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
  /** Unknown face tracks named after the identified voice they were the active speaker of. */
  tracksNamedByVoice: number;
  modelId: string | null;
}

export interface VoicesStageDeps {
  models(ctx: StageContext): Promise<VoiceModels>;
  audio(ctx: StageContext): Promise<Float32Array>;
  /** Open-set identification of a voice (a turn, or a cluster's mean embedding); null: a stranger. */
  identify(ctx: StageContext, voice: VoiceQuery): Promise<VoiceMatch | null>;
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
  identify: (ctx, voice) => voiceServiceOf(ctx).identifyVoice(voice),
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

export interface ClusterDecision {
  actorId: string | null;
  origin: VoiceClusterOrigin | null;
  confidence: number;
}

type TrackIdentity = Pick<FaceTrackRecord, 'id' | 'actorId' | 'confidence'>;

/** The identified face track alone on screen for at least FACE_LINK_MIN_SHARE of a voice's speech. */
function linkedFace(active: { trackId: string; share: number } | null, tracks: readonly TrackIdentity[]): TrackIdentity | null {
  const track = active && active.share >= FACE_LINK_MIN_SHARE ? tracks.find((t) => t.id === active.trackId) : undefined;
  return track?.actorId ? track : null;
}

/**
 * A voice match the picture contradicts: while the voice speaks, another identified actor's face
 * is alone on screen. Voices can be cloned and no spoof detector exists here (models/voice/README.md),
 * so the face on screen wins and the voice-only match does not count as presence.
 */
export function contradictedByFace(match: { actorId: string | null } | null, face: TrackIdentity | null): boolean {
  return match !== null && match.actorId !== null && face !== null && face.actorId !== match.actorId;
}

/**
 * Who a voice cluster is: its own voice match first, unless the face on screen contradicts it;
 * otherwise the identified face that is alone on screen for at least FACE_LINK_MIN_SHARE of its
 * speech, with that face track's confidence.
 */
export function decideCluster(match: VoiceMatch | null, active: { trackId: string; share: number } | null, tracks: readonly TrackIdentity[]): ClusterDecision {
  const face = linkedFace(active, tracks);
  if (match && !contradictedByFace(match, face)) return { actorId: match.actorId, origin: 'VOICE', confidence: match.confidence };
  if (face) return { actorId: face.actorId, origin: 'FACE', confidence: face.confidence };
  return { actorId: null, origin: null, confidence: 0 };
}

/**
 * One turn's actor: its own voice match, else its cluster's decision — either dropped when the
 * face alone on screen during this very turn is another identified actor (a cluster may span
 * several shots, so the cluster's face does not speak for every turn).
 */
export function attributeTurn(turn: SpeakerTurn, own: VoiceMatch | null, decision: ClusterDecision, tracks: readonly (TrackIdentity & TimedTrack)[]): VoiceTurnRecord {
  const face = linkedFace(activeSpeakerTrack([turn], tracks), tracks);
  if (own && !contradictedByFace(own, face)) return { ...turn, actorId: own.actorId, confidence: own.confidence, ownMatch: true };
  if (decision.origin === 'VOICE' && contradictedByFace(decision, face)) return { ...turn, actorId: null, confidence: 0, ownMatch: false };
  return { ...turn, actorId: decision.actorId, confidence: decision.confidence, ownMatch: false };
}

/** Pairwise scores of the turn vectors on the model's scale (cohort-normalised when it has a cohort). */
function turnScores(vectors: readonly Float32Array[], scoring: VoiceScoring): number[][] {
  const stats = vectors.map((v) => statsOf(scoring, v));
  return vectors.map((a, i) => vectors.map((b, j) => trialScore(dot(a, b), stats[i]!, stats[j]!)));
}

export function createVoicesStage(overrides: Partial<VoicesStageDeps> = {}): Stage<unknown, VoicesStageOutput> {
  const deps: VoicesStageDeps = { ...defaultDeps, ...overrides };
  return {
    name: 'voices',
    weight: 1,
    needs: ['probe'],
    // Links speech to the face tracks on screen when the faces stage runs: speech and speaker
    // vectors need no faces, so they are worked out (during the decode) before waiting for them.
    awaitsAfter: ['faces'],
    media: () => ({ audioRates: [VOICE_SAMPLE_RATE] }),
    async run(ctx) {
      const { video, store, log } = ctx;
      const empty = (skipped: string | null, audioSec = 0, modelId: string | null = null): VoicesStageOutput => ({ skipped, audioSec, speechSec: 0, turns: 0, clusters: [], voiceSpans: 0, tracksNamedByVoice: 0, modelId });
      // A re-index that finds no usable audio drops what an earlier run stored.
      const forgetVoices = async (): Promise<void> => {
        await store.voiceClusters.replaceVideo(video.id, []);
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

      // Two turns are one voice when their score passes the threshold for turn-length speech.
      const labels = clusterVoices(turnScores(embedded.map((e) => e.vector), embedder.scoring), embedder.scoring.threshold(MIN_TURN_SEC));
      await awaitPrerequisites(ctx);
      const tracks = await store.appearances.getTracksOfVideo(video.id);
      const clusters: VoiceClusterSummary[] = [];
      const speakerLinks: SpeakerLink[] = [];
      const records: VoiceClusterWithVector[] = [];
      const clusterCount = labels.length ? Math.max(...labels) + 1 : 0;
      const now = new Date().toISOString();
      for (let label = 0; label < clusterCount; label++) {
        const members = embedded.filter((_, i) => labels[i] === label);
        const centre = meanDirection(members.map((m) => m.vector));
        const memberTurns = members.map((m) => m.turn);
        const speechSec = memberTurns.reduce((s, t) => s + t.end - t.start, 0);
        const clusterMatch = await deps.identify(ctx, { embedding: centre, speechSec });
        const active = activeSpeakerTrack(memberTurns, tracks);
        const decision = decideCluster(clusterMatch, active, tracks);
        if (decision.origin === 'VOICE' && decision.actorId && active) speakerLinks.push({ trackId: active.trackId, share: active.share, actorId: decision.actorId, confidence: decision.confidence });
        // A turn that matches an enrolled voice on its own keeps that answer: at the same-speaker
        // threshold, clustering can merge two short voices, and the cluster mean then hides one.
        // Turns that match nobody alone inherit their cluster's identity.
        const turnRecords: VoiceTurnRecord[] = [];
        for (const member of members) {
          const own = members.length > 1 ? await deps.identify(ctx, { embedding: member.vector, speechSec: member.turn.end - member.turn.start }) : clusterMatch;
          turnRecords.push(attributeTurn(member.turn, own, decision, tracks));
        }
        const id = `${video.id}:voice-cluster:${label}`;
        // A voice that matched someone else is never taught to the face's actor (it may be a clone).
        const teach = decision.origin === 'FACE' && clusterMatch === null && active !== null && active.share >= TEMPLATE_LINK_MIN_SHARE && speechSec >= TEMPLATE_MIN_SPEECH_SEC;
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
      await store.voiceClusters.replaceVideo(video.id, records);
      const spans = voiceSpans(video, records.flatMap((r) => r.record.turns));
      await store.appearances.replaceSpans(video.id, 'VOICE', spans);
      const named = namesFromVoices(speakerLinks, tracks, TEMPLATE_LINK_MIN_SHARE);
      for (const [trackId, name] of named) await store.appearances.assignTracks([trackId], name.actorId, name.confidence);
      if (named.size > 0) await store.appearances.replaceSpans(video.id, 'FACE', faceSpansFromTracks(video.id, await store.appearances.getTracksOfVideo(video.id)));
      log.info({ videoId: video.id, turns: turns.length, clusters: clusters.length, spans: spans.length }, 'voices indexed');
      return {
        skipped: null,
        audioSec,
        speechSec: segments.reduce((s, x) => s + x.end - x.start, 0),
        turns: turns.length,
        clusters,
        voiceSpans: spans.length,
        tracksNamedByVoice: named.size,
        modelId: embedder.modelId,
      };
    },
  };
}

export const voicesStage = createVoicesStage();
