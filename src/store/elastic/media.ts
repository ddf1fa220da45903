// Opens the media-derived repositories on Elasticsearch (technical cues, intro/outro, frame
// evidence), each after migrating its index family forward.
import type { Client } from '@elastic/elasticsearch';
import type { Catalog, Store } from '../interfaces.js';
import { ElasticFrameEvidenceRepository } from './frame-evidence.js';
import { ElasticIntroRepository } from './intro.js';
import type { ElasticMediaOptions } from './media-schema.js';
import type { VersionedIndexResult } from './schema.js';
import { ElasticTechnicalRepository } from './technical.js';

export type MediaRepositories = Pick<Store, 'technical' | 'intro' | 'frameEvidence'>;

export interface OpenedMediaRepositories {
  repositories: MediaRepositories;
  /** Per index (technical, fingerprints, skip-markers, frame-evidence): what opening did, for the log. */
  migrations: Record<string, VersionedIndexResult>;
}

/** The repositories with their migration results (for callers that log them). */
export async function openMediaRepositoriesWithMigrations(
  client: Client,
  options: ElasticMediaOptions & { catalog: Catalog },
): Promise<OpenedMediaRepositories> {
  const technical = await ElasticTechnicalRepository.open(client, options);
  const intro = await ElasticIntroRepository.open(client, options);
  const frameEvidence = await ElasticFrameEvidenceRepository.open(client, options);
  return {
    repositories: { technical: technical.repository, intro: intro.repository, frameEvidence: frameEvidence.repository },
    migrations: { ...technical.migration, ...intro.migration, ...frameEvidence.migration },
  };
}

/** `intro` lists a series' videos through `catalog` (the Elasticsearch catalog in this mode). */
export async function openMediaRepositories(client: Client, options: ElasticMediaOptions & { catalog: Catalog }): Promise<MediaRepositories> {
  return (await openMediaRepositoriesWithMigrations(client, options)).repositories;
}
