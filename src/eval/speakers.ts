// EVAL.md task "speakers": enrol each gallery identity as an actor whose voice samples are added
// one file at a time through the voice service (files without speech are skipped and counted),
// then answer each query file with the identity of the closest enrolled voice, or "unknown"
// (no speech, or no voice close enough).
import { identificationMetrics } from './metrics.js';
import { EvalInputError, type EvalContext, type EvalTask } from './types.js';

interface SpeakersManifest {
  gallery: { identity: string; audio: string[] }[];
  queries: { audio: string; identity: string | null }[];
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
  }
  return manifest as unknown as SpeakersManifest;
}

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

    const results: { expected: string | null; answer: string | null }[] = [];
    let queryMs = 0;
    let audioSec = 0;
    for (const query of queries) {
      const start = performance.now();
      const { audioSec: queryAudioSec, voice } = await voices.embedAudioFile(query.file);
      const match = voice ? await voices.identifyVoice(voice.embedding) : null;
      queryMs += performance.now() - start;
      audioSec += queryAudioSec;
      const answer = match ? (identityByActor.get(match.actorId) ?? null) : null;
      results.push({ expected: query.identity, answer });
      const how = voice ? `similarity ${match?.similarity.toFixed(3) ?? 'below threshold'}` : 'no speech';
      if (answer !== query.identity) ctx.progress(`query ${query.audio}: expected ${query.identity ?? 'unknown'}, answered ${answer ?? 'unknown'} (${how})`);
    }
    return { ...identificationMetrics(results), msPerAudioSecond: audioSec > 0 ? queryMs / audioSec : null, skippedGallery };
  },
};
