// Ads, tags, highlights and moderation on Elasticsearch: the shared conformance suite
// (conformance-ads.ts) on the embedded store always, on the in-memory fakes, and on a live cluster
// when ELASTICSEARCH_URL is set; always the adapters' requests and their handling of the answers
// through the real @elastic/elasticsearch client against recorded responses
// (test/store/fixtures/elastic/ads-*.json, moderation-*.json); and `migrate`'s copy.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe } from 'vitest';
import { openAdsRepositories } from '../../src/store/elastic/ads.js';
import { elasticClient } from '../../src/store/elastic/client.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { FakeHighlightRepository, FakeTagRepository } from '../helpers/fake-ads.js';
import { FakeModerationRepository } from '../helpers/fake-moderation.js';
import { describeAdsConformance, describeHighlightConformance, describeModerationConformance, describeTagConformance } from './conformance-ads.js';

describeAdsConformance('embedded', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-ads-'));
  const store = await openEmbeddedStore(dir);
  return {
    repos: store,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const inMemory = <R>(repos: R) => async () => ({ repos, dispose: async () => undefined });
describeTagConformance('fake', () => inMemory(new FakeTagRepository())());
describeHighlightConformance('fake', () => inMemory(new FakeHighlightRepository())());
describeModerationConformance('fake', () => inMemory(new FakeModerationRepository())());

const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL;
if (!ELASTICSEARCH_URL) console.warn('[elastic-ads] live conformance SKIPPED: ELASTICSEARCH_URL is not set (recorded-response tests still run)');

(ELASTICSEARCH_URL ? describe : describe.skip)('ads repositories on a live cluster', () => {
  const prefix = `vidsearch-test-${process.pid}`;
  let client: Client;
  beforeAll(() => {
    client = elasticClient({ url: ELASTICSEARCH_URL!, apiKey: process.env.ELASTICSEARCH_API_KEY ?? null });
  });
  afterAll(async () => {
    await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await client.close();
  });
  // The indices are created once; each test starts from empty indices (counters included).
  let migrated = false;
  describeAdsConformance('elastic', async () => {
    if (migrated) await client.deleteByQuery({ index: `${prefix}-*`, query: { match_all: {} }, refresh: true, conflicts: 'proceed' });
    const repos = await openAdsRepositories(client, { prefix });
    migrated = true;
    return { repos, dispose: async () => undefined };
  });
});
