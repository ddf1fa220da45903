// EVAL.md task "faces": enrol each gallery identity as an actor (pictures added one at a time
// through the actor service, unusable ones skipped and counted), then answer each query picture
// with the identity of its largest face, or "unknown" (no face, or no actor close enough).
import { decodeImage } from '../models/image.js';
import { FACE_PICTURE_MAX_SIDE } from '../services/actor-pictures.js';
import { identificationMetrics, mean } from './metrics.js';
import { EvalInputError, type EvalContext, type EvalTask } from './types.js';

interface FacesManifest {
  gallery: { identity: string; images: string[] }[];
  queries: { image: string; identity: string | null }[];
}

function parse(manifest: Record<string, unknown>): FacesManifest {
  const { gallery, queries } = manifest as Partial<FacesManifest>;
  if (!Array.isArray(gallery) || !Array.isArray(queries)) throw new EvalInputError('faces manifest needs "gallery" and "queries" arrays');
  for (const entry of gallery) {
    if (typeof entry?.identity !== 'string' || !Array.isArray(entry.images)) {
      throw new EvalInputError('each gallery entry needs "identity" (string) and "images" (array)');
    }
  }
  for (const query of queries) {
    if (typeof query?.image !== 'string' || !(typeof query.identity === 'string' || query.identity === null)) {
      throw new EvalInputError('each query needs "image" (string) and "identity" (string or null)');
    }
  }
  return manifest as unknown as FacesManifest;
}

export const facesTask: EvalTask = {
  task: 'faces',
  async run(raw, ctx: EvalContext) {
    const manifest = parse(raw);
    const actors = ctx.app.services.actors;
    const identityByActor = new Map<string, string>();
    let skippedGallery = 0;
    for (const entry of manifest.gallery) {
      const files = entry.images.map((image) => ctx.resolve(image));
      const actor = await actors.enrollActor({ name: entry.identity });
      identityByActor.set(actor.id, entry.identity);
      for (const file of files) {
        const { skipped } = await actors.addFaces(actor.id, { imagePaths: [file] });
        for (const skip of skipped) ctx.progress(`gallery ${entry.identity}: skipped ${skip.source}: ${skip.reason}`);
        skippedGallery += skipped.length;
      }
    }
    ctx.progress(`enrolled ${manifest.gallery.length} identities (${skippedGallery} gallery pictures skipped)`);

    const results: { expected: string | null; answer: string | null }[] = [];
    const latencies: number[] = [];
    for (const query of manifest.queries) {
      const file = ctx.resolve(query.image);
      const start = performance.now();
      const found = await actors.embedLargestFace(await decodeImage(file, { maxSide: FACE_PICTURE_MAX_SIDE }));
      const match = found ? await actors.identifyFace(found.embedding) : null;
      latencies.push(performance.now() - start);
      const answer = match ? (identityByActor.get(match.actorId) ?? null) : null;
      results.push({ expected: query.identity, answer });
      if (answer !== query.identity) ctx.progress(`query ${query.image}: expected ${query.identity ?? 'unknown'}, answered ${answer ?? 'unknown'}`);
    }
    return { ...identificationMetrics(results), msPerImage: mean(latencies), skippedGallery };
  },
};
