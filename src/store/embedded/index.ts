// The embedded backend: every store interface on one SQLite file in the data dir.
import type { Store } from '../interfaces.js';
import { EmbeddedActorRepository } from './actors.js';
import { EmbeddedAdRepository, EmbeddedHighlightRepository, EmbeddedTagRepository } from './ads.js';
import { EmbeddedAppearanceRepository } from './appearances.js';
import { EmbeddedCatalog } from './catalog.js';
import { openDatabase } from './db.js';
import { EmbeddedFrameEvidenceRepository } from './frame-evidence.js';
import { EmbeddedJobQueue } from './job-queue.js';
import { migrate } from './migrations.js';
import { EmbeddedIntroRepository } from './intro.js';
import { EmbeddedModerationRepository } from './moderation.js';
import { EmbeddedTechnicalRepository } from './technical.js';
import { EmbeddedTextIndex } from './text-index.js';
import { EmbeddedVectorIndex } from './vector-index.js';
import { EmbeddedVoiceClusterRepository } from './voice-clusters.js';

export async function openEmbeddedStore(dataDir: string): Promise<Store> {
  const db = openDatabase(dataDir);
  let schemaVersion: number;
  try {
    schemaVersion = migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  const vectors = new EmbeddedVectorIndex(db);
  return {
    catalog: new EmbeddedCatalog(db),
    text: new EmbeddedTextIndex(db),
    vectors,
    jobs: new EmbeddedJobQueue(db),
    actors: new EmbeddedActorRepository(db),
    appearances: new EmbeddedAppearanceRepository(db),
    moderation: new EmbeddedModerationRepository(db),
    ads: new EmbeddedAdRepository(db),
    tags: new EmbeddedTagRepository(db),
    highlights: new EmbeddedHighlightRepository(db),
    technical: new EmbeddedTechnicalRepository(db),
    intro: new EmbeddedIntroRepository(db),
    frameEvidence: new EmbeddedFrameEvidenceRepository(db),
    voiceClusters: new EmbeddedVoiceClusterRepository(db),
    schemaVersion,
    async close() {
      await vectors.close();
      if (db.open) db.close();
    },
  };
}
