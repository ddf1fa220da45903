// Technical cues, intro/outro and frame evidence on Elasticsearch. The shared contract
// (conformance-media.ts) runs against the embedded store and the in-memory fakes always, and
// against a live cluster when ELASTICSEARCH_URL is set; the adapters' requests and their handling
// of answers run always through the real @elastic/elasticsearch client against recorded
// responses (test/store/fixtures/elastic/{technical,intro,evidence}-*.json). Also here: `migrate`'s
// copy of these repositories from an embedded store.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { ElasticCatalog } from '../../src/store/elastic/catalog.js';
import { elasticClient } from '../../src/store/elastic/client.js';
import { openMediaRepositories } from '../../src/store/elastic/media.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { FakeCatalog } from '../helpers/fake-store.js';
import { FakeFrameEvidenceRepository } from '../helpers/fake-frame-evidence.js';
import { FakeIntroRepository, FakeTechnicalRepository } from '../helpers/fake-technical.js';
import { describeMediaConformance } from './conformance-media.js';

describeMediaConformance('embedded', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-media-'));
  const store = await openEmbeddedStore(dir);
  return {
    catalog: store.catalog,
    technical: store.technical,
    intro: store.intro,
    frameEvidence: store.frameEvidence,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeMediaConformance('in-memory fakes', async () => {
  const catalog = new FakeCatalog();
  return {
    catalog,
    technical: new FakeTechnicalRepository(),
    intro: new FakeIntroRepository(catalog.videos),
    frameEvidence: new FakeFrameEvidenceRepository(),
    dispose: async () => {},
  };
});

const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL;
if (!ELASTICSEARCH_URL) console.warn('[elastic-media] live conformance SKIPPED: ELASTICSEARCH_URL is not set (recorded-response tests still run)');

(ELASTICSEARCH_URL ? describe : describe.skip)('elasticsearch media repositories (live cluster)', () => {
  let run = 0;
  describeMediaConformance('elasticsearch', async () => {
    run += 1;
    const prefix = `vidsearch-test-${process.pid}-${run}`;
    const client = elasticClient({ url: ELASTICSEARCH_URL!, apiKey: process.env.ELASTICSEARCH_API_KEY ?? null });
    const { catalog } = await ElasticCatalog.open(client, { prefix });
    const repositories = await openMediaRepositories(client, { prefix, catalog });
    return {
      catalog,
      ...repositories,
      async dispose() {
        await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
        await client.close();
      },
    };
  });
});
