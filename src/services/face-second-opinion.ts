// The second opinion's side that needs the store and the model (the rule is
// indexers/face-second-opinion.ts): MobileFace templates made from the actors' stored aligned
// crops (the thumbnails the shipped templates were embedded from, plain and mirrored), gallery
// mean-centred, and per-face scores of a track's thumbnails over a cast. Template vectors are kept
// per process and template id, so only templates added since are embedded (~40 ms of CPU each);
// the gallery's mean follows the current set of templates.
import { CentredGallery, type GalleryTemplate } from '../indexers/face-second-opinion.js';
import type { ScoredFace } from '../indexers/face-identity.js';
import type { SecondOpinionScorer, TrackThumbnail } from '../indexers/face-video-identity.js';
import { decodeImage } from '../models/image.js';
import { loadMobileFace, type SecondFaceEmbedder } from '../models/faces/mobileface.js';
import type { ActorRepository } from '../store/actors.js';

export interface SecondOpinionDeps {
  actors: Pick<ActorRepository, 'allFaceTemplates'>;
  /** Loaded at the first track that needs an opinion. */
  embedder: () => Promise<SecondFaceEmbedder>;
}

/** One gallery per template set: rebuilt (reusing every vector already made) when templates change. */
class TemplateVectors {
  private readonly vectors = new Map<string, GalleryTemplate>();
  private gallery: { key: string; value: CentredGallery } | null = null;

  async current(deps: SecondOpinionDeps, embedder: SecondFaceEmbedder): Promise<CentredGallery | null> {
    const templates = (await deps.actors.allFaceTemplates()).filter((t) => t.thumbnail);
    if (templates.length === 0) return null;
    const key = templates.map((t) => t.id).sort().join(',');
    if (this.gallery?.key === key) return this.gallery.value;
    for (const t of templates) {
      if (this.vectors.has(t.id)) continue;
      const crop = await decodeImage(t.thumbnail!, { label: `template ${t.id}` });
      this.vectors.set(t.id, { actorId: t.actorId, vector: await embedder.embed(crop) });
    }
    this.gallery = { key, value: new CentredGallery(templates.map((t) => this.vectors.get(t.id)!)) };
    return this.gallery.value;
  }
}

export function createSecondOpinionScorer(deps: SecondOpinionDeps): SecondOpinionScorer {
  const templates = new TemplateVectors();
  return async (thumbnails: readonly TrackThumbnail[], cast: readonly string[]): Promise<ScoredFace[]> => {
    const embedder = await deps.embedder();
    const gallery = await templates.current(deps, embedder);
    if (!gallery) return [];
    const among = new Set(cast);
    const scored: ScoredFace[] = [];
    for (const thumbnail of thumbnails) {
      const crop = await decodeImage(thumbnail.jpeg, { label: 'face thumbnail' });
      scored.push({ quality: thumbnail.quality, scores: gallery.score(await embedder.embed(crop), among) });
    }
    return scored;
  };
}

const scorers = new WeakMap<SecondOpinionDeps['actors'], SecondOpinionScorer>();

/** The store's scorer with the shipped MobileFace: one per actor repository, so its template vectors are made once. */
export function secondOpinionScorerFor(actors: SecondOpinionDeps['actors']): SecondOpinionScorer {
  let scorer = scorers.get(actors);
  if (!scorer) {
    scorer = createSecondOpinionScorer({ actors, embedder: loadMobileFace });
    scorers.set(actors, scorer);
  }
  return scorer;
}
