// Which faces an editor confirmed become an actor's templates. Taking the best-quality faces (what
// naming a cluster did before) adds the sharp frontal views the actor's templates already match
// and leaves out exactly the views identification missed: a turned head, a dim or soft shot. So
// faces are picked farthest-first — each pick is the candidate least like every template the actor
// has and every face picked so far — which spreads the templates over the poses and conditions
// the editor confirmed. Quality breaks ties, so an actor without templates starts from its best
// face. Only faces large enough to enrol from (MIN_ENROL_FACE_SIDE, the enrolment rule) qualify:
// a 20-px blurred face reads as "any face" to the embedder and as a template would draw strangers.
import { cosine } from '../indexers/face-tracking.js';
import type { Box } from '../models/types.js';
import { MIN_ENROL_FACE_SIDE } from './actor-pictures.js';

export interface TemplateCandidate {
  id: string;
  vector: Float32Array;
  quality: number;
  box: Box;
}

/** Up to `limit` candidates, farthest-first from `existing` (the actor's template vectors). */
export function pickCoveringTemplates<T extends TemplateCandidate>(candidates: readonly T[], existing: readonly Float32Array[], limit: number): T[] {
  const pool = candidates.filter((c) => Math.min(c.box.width, c.box.height) >= MIN_ENROL_FACE_SIDE).sort((a, b) => b.quality - a.quality);
  // Nearest similarity of each candidate to the templates so far (−∞ with none: quality decides).
  const nearest = pool.map((c) => existing.reduce((best, t) => Math.max(best, cosine(c.vector, t)), Number.NEGATIVE_INFINITY));
  const picked: T[] = [];
  const taken = new Set<number>();
  while (picked.length < Math.min(limit, pool.length)) {
    let next = -1;
    for (let k = 0; k < pool.length; k++) if (!taken.has(k) && (next < 0 || nearest[k]! < nearest[next]!)) next = k;
    const chosen = pool[next]!;
    picked.push(chosen);
    taken.add(next);
    pool.forEach((c, k) => (nearest[k] = Math.max(nearest[k]!, cosine(c.vector, chosen.vector))));
  }
  return picked;
}
