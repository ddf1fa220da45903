// Actors and appearances on Elasticsearch: the presence conformance suite (conformance-presence.ts)
// against the embedded store and the in-memory fakes always, against a live cluster when
// ELASTICSEARCH_URL is set; and the adapters' requests and response handling through the real
// @elastic/elasticsearch client against recorded responses (fixtures/elastic/presence-*.json).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { elasticClient } from '../../src/store/elastic/client.js';
import { openPresenceRepositories } from '../../src/store/elastic/appearances.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { FakeAppearanceRepository } from '../helpers/fake-appearances.js';
import { FakeActorRepository } from '../helpers/fake-store.js';
import { describePresenceConformance } from './conformance-presence.js';

describePresenceConformance('embedded', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-presence-'));
  const store = await openEmbeddedStore(dir);
  return {
    actors: store.actors,
    appearances: store.appearances,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describePresenceConformance('in-memory fakes', async () => ({
  actors: new FakeActorRepository(),
  appearances: new FakeAppearanceRepository(),
  dispose: async () => undefined,
}));

const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL;
if (!ELASTICSEARCH_URL) console.warn('[elastic-presence] live conformance SKIPPED: ELASTICSEARCH_URL is not set (recorded-response tests still run)');

(ELASTICSEARCH_URL ? describe : describe.skip)('elasticsearch presence (live cluster)', () => {
  let run = 0;
  describePresenceConformance('elasticsearch', async () => {
    const prefix = `vidsearch-test-${process.pid}-${(run += 1)}`;
    const client = elasticClient({ url: ELASTICSEARCH_URL!, apiKey: process.env.ELASTICSEARCH_API_KEY ?? null });
    const repos = await openPresenceRepositories(client, { prefix });
    return {
      ...repos,
      async dispose() {
        await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
        await client.close();
      },
    };
  });
});
