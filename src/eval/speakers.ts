// EVAL.md task "speakers": enrol each gallery identity as an actor whose voice samples are added
// one file at a time through the voice service (files without speech are skipped and counted),
// then answer each query file with the identity of the closest enrolled voice, or "unknown"
// (no speech, or no voice close enough).
// Beyond EVAL.md (optional, for our own dev manifests): a query may name a window of its file,
// "start"/"end" in seconds, to test short speech without cutting media. Besides the EVAL.md
// metrics the task reports the verifier's error rates (speakers-detection.ts) and accuracy by
// seconds of speech in the query.
import { detectionMetrics, type QueryTrials } from './speakers-detection.js';
import { identificationMetrics } from './metrics.js';
import { EvalInputError, type EvalContext, type EvalTask } from './types.js';

interface SpeakersQuery {
  audio: string;
  identity: string | null;
  start?: number;
  end?: number;
}

interface SpeakersManifest {
  gallery: { identity: string; audio: string[] }[];
  queries: SpeakersQuery[];
}

function parseWindow(query: SpeakersQuery): void {
  if (query.start === undefined && query.end === undefined) return;
  const { start = 0, end } = query;
  if (typeof start !== 'number' || typeof end !== 'number' || !(start >= 0 && end > start)) {
    throw new EvalInputError(`query ${query.audio}: "start"/"end" must be seconds with 0 ≤ start < end`);
  }
}

function parse(manifest: Record<string, unknown>): SpeakersManifest {
  const { gallery, queries } = manifest as Partial<SpeakersManifest>;
  if (!Array.isArray(gallery) || !Array.isArray(queries)) throw new EvalInputError('speakers manifest needs "gallery" and "queries" arrays');
  for (const entry of gallery) {
    if (typeof entry?.identity !== 'string' || !Array.isArray(entry.audio) || !entry.audio.every((a) => typeof a === 'string')) {
      throw new EvalInputError('each gallery entry needs "identity" (string) and "audio" (array of paths)');
    }
  }
  for (const query of queries) {
    if (typeof query?.audio !== 'string' || !(typeof query.identity === 'string' || query.identity === null)) {
      throw new EvalInputError('each query needs "audio" (string) and "identity" (string or null)');
    }
    parseWindow(query);
  }
  return manifest as unknown as SpeakersManifest;
}

const describe = (query: SpeakersQuery): string => (query.end !== undefined ? `${query.audio} [${query.start ?? 0}–${query.end} s]` : query.audio);

export const speakersTask: EvalTask = {
  task: 'speakers',
  async run(raw, ctx: EvalContext) {
    const manifest = parse(raw);
    // Resolve every path first: a missing file is a manifest error before any work is done.
    const gallery = manifest.gallery.map((entry) => ({ identity: entry.identity, files: entry.audio.map((a) => ctx.resolve(a)) }));
    const queries = manifest.queries.map((query) => ({ ...query, file: ctx.resolve(query.audio) }));
    const { actors, voices } = ctx.app.services;

    const identityByActor = new Map<string, string>();
    let skippedGallery = 0;
    for (const entry of gallery) {
      const actor = await actors.enrollActor({ name: entry.identity });
      identityByActor.set(actor.id, entry.identity);
      for (const file of entry.files) {
        const { skipped } = await voices.addVoices(actor.id, { voicePaths: [file] });
        for (const skip of skipped) ctx.progress(`gallery ${entry.identity}: skipped ${skip.source}: ${skip.reason}`);
        skippedGallery += skipped.length;
      }
    }
    ctx.progress(`enrolled ${gallery.length} voices (${skippedGallery} gallery files skipped)`);

    const results: QueryTrials[] = [];
    let queryMs = 0;
    let audioSec = 0;
    for (const query of queries) {
      const started = performance.now();
      const window = query.end !== undefined ? { start: query.start ?? 0, end: query.end } : undefined;
      const { audioSec: queryAudioSec, voice } = await voices.embedAudioFile(query.file, { window });
      const match = voice ? await voices.identifyVoice(voice) : null;
      queryMs += performance.now() - started;
      // Every identity's score, for the error rates (not part of answering, so not timed).
      const ranking = voice ? await voices.rankVoices(voice) : null;
      audioSec += window ? window.end - window.start : queryAudioSec;
      const answer = match ? (identityByActor.get(match.actorId) ?? null) : null;
      results.push({
        expected: query.identity,
        answer,
        speechSec: voice?.speechSec ?? 0,
        // Each enrolled identity's score minus the threshold for this query's speech: ≥ 0 accepts.
        margins: (ranking?.candidates ?? []).map((c) => ({ identity: identityByActor.get(c.actorId) ?? null, margin: c.score - ranking!.threshold })),
      });
      const how = voice ? `score ${ranking?.candidates[0]?.score.toFixed(3) ?? 'none'} vs threshold ${ranking?.threshold.toFixed(3)}, ${voice.speechSec.toFixed(1)} s speech` : 'no speech';
      if (answer !== query.identity) ctx.progress(`query ${describe(query)}: expected ${query.identity ?? 'unknown'}, answered ${answer ?? 'unknown'} (${how})`);
    }
    return { ...identificationMetrics(results), msPerAudioSecond: audioSec > 0 ? queryMs / audioSec : null, skippedGallery, ...detectionMetrics(results) };
  },
};
