// Opens the media-derived repositories on Elasticsearch (technical cues, intro/outro, frame
// evidence), each after migrating its index family forward.
import type { Client } from '@elastic/elasticsearch';
import type { Catalog, Store } from '../interfaces.js';
import { ElasticFrameEvidenceRepository } from './frame-evidence.js';
import { ElasticIntroRepository } from './intro.js';
import type { ElasticRepositoryOptions } from './client.js';
import type { Logger } from '../../logger.js';
import { migrationSummary } from './documents.js';
import { ElasticTechnicalRepository } from './technical.js';

export type MediaRepositories = Pick<Store, 'technical' | 'intro' | 'frameEvidence'>;

/**
 * Technical cues, intro/outro and frame evidence on Elasticsearch (their index families migrated
 * first; the results logged when a logger is given). `intro` lists a series' videos through
 * `catalog` (the Elasticsearch catalog in this mode).
 */
export async function openMediaRepositories(
  client: Client,
  options: ElasticRepositoryOptions & { catalog: Catalog; log?: Logger },
): Promise<MediaRepositories> {
  const technical = await ElasticTechnicalRepository.open(client, options);
  const intro = await ElasticIntroRepository.open(client, options);
  const frameEvidence = await ElasticFrameEvidenceRepository.open(client, options);
  options.log?.info(migrationSummary({ ...technical.migration, ...intro.migration, ...frameEvidence.migration }), 'Elasticsearch technical cues, intro/outro and frame evidence ready');
  return { technical: technical.repository, intro: intro.repository, frameEvidence: frameEvidence.repository };
}
