// Opening the presence repositories on Elasticsearch together.
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '../../logger.js';
import type { Store } from '../interfaces.js';
import { ElasticActorRepository } from './actors.js';
import { ElasticAppearanceRepository, type ElasticAppearanceOptions } from './appearances.js';
import { migrationSummary } from './documents.js';
import { ElasticVoiceClusterRepository } from './voice-clusters.js';

/**
 * Actors, appearances and voice clusters on Elasticsearch (their index families migrated first);
 * the migration results are logged when a logger is given.
 */
export async function openPresenceRepositories(
  client: Client,
  options: ElasticAppearanceOptions & { log?: Logger } = {},
): Promise<Pick<Store, 'actors' | 'appearances' | 'voiceClusters'>> {
  const actors = await ElasticActorRepository.open(client, options);
  const appearances = await ElasticAppearanceRepository.open(client, options);
  const voiceClusters = await ElasticVoiceClusterRepository.open(client, options);
  const migration = { ...actors.migration, ...appearances.migration, ...voiceClusters.migration };
  options.log?.info(migrationSummary(migration), 'Elasticsearch actors, appearances and voice clusters ready');
  return { actors: actors.repository, appearances: appearances.repository, voiceClusters: voiceClusters.repository };
}
