// Elasticsearch TextIndex (and, through openStore, the Elasticsearch catalog): the shared
// conformance suite when ELASTICSEARCH_URL is set (a real cluster), and always the adapter's requests and response handling through the real
// @elastic/elasticsearch client against recorded responses (test/store/fixtures/elastic/*.json).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { migrateTextIndex, SchemaTooNewError, TEXT_SCHEMA_VERSION } from '../../src/store/elastic/schema.js';
import { elasticClient } from '../../src/store/elastic/client.js';
import { ElasticTextIndex, renderSnippet } from '../../src/store/elastic/text-index.js';
import { TEXT_TOTAL_BOUND } from '../../src/store/interfaces.js';
import { openStore } from '../../src/store/open.js';
import { describeStoreConformance, textDoc } from './conformance.js';
import { loadExchanges, ReplayServer } from './fixtures/replay-server.js';

const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL;
if (!ELASTICSEARCH_URL) console.warn('[elastic] conformance SKIPPED: ELASTICSEARCH_URL is not set (recorded-response tests still run)');

(ELASTICSEARCH_URL ? describe : describe.skip)('elasticsearch (live cluster)', () => {
  describeStoreConformance('embedded + elastic', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-elastic-'));
    const wipe = async (): Promise<void> => {
      const client = elasticClient({ url: ELASTICSEARCH_URL!, apiKey: process.env.ELASTICSEARCH_API_KEY ?? null });
      // Every family openStore creates in elastic mode (catalog, text and the repositories).
      await client.indices.delete({ index: 'vidsearch-*-v*', ignore_unavailable: true, allow_no_indices: true });
      await client.close();
    };
    await wipe();
    const store = await openStore(
      loadConfig({ VIDSEARCH_DATA_DIR: dir, VIDSEARCH_STORE: 'elastic', ELASTICSEARCH_URL, ELASTICSEARCH_API_KEY: process.env.ELASTICSEARCH_API_KEY }, dir),
    );
    return {
      store,
      async dispose() {
        await store.close();
        await wipe();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
});

describe('elasticsearch adapter against recorded responses', () => {
  const server = new ReplayServer({ 'x-elastic-product': 'Elasticsearch' });
  let url = '';
  let index: ElasticTextIndex;

  beforeAll(async () => {
    url = await server.start();
    index = new ElasticTextIndex(elasticClient({ url, maxRetries: 0 }));
  });
  afterAll(async () => {
    await index.client.close();
    await server.stop();
  });
  beforeEach(() => server.replay([]));


  it('creates the template and the first versioned index behind the alias, smartcn when the plugin is there', async () => {
    server.replay(loadExchanges('elastic/create.json'));
    const result = await migrateTextIndex(index.client, 'vidsearch');
    server.expectDone();
    expect(result).toEqual({ index: 'vidsearch-text-v1', meta: { schemaVersion: TEXT_SCHEMA_VERSION, chineseAnalyzer: 'smartcn' }, action: 'created' });
    const template = server.received[2]!.body as {
      index_patterns: string[];
      template: { settings: { analysis: { analyzer: Record<string, { tokenizer: string; filter: string[] }> } }; mappings: { _meta: unknown; properties: Record<string, unknown> } };
    };
    expect(template.index_patterns).toEqual(['vidsearch-text-v*']);
    expect(template.template.mappings._meta).toEqual({ schemaVersion: 1, chineseAnalyzer: 'smartcn' });
    const analyzers = template.template.settings.analysis.analyzer;
    expect(analyzers.vs_words!.tokenizer).toBe('smartcn_tokenizer');
    expect(analyzers.vs_grams!.filter).toContain('cjk_bigram');
    expect(analyzers.vs_english_index!.filter).toEqual(['cjk_width', 'vs_word_parts', 'flatten_graph', 'lowercase', 'porter_stem']);
    expect(template.template.mappings.properties.segmentId).toEqual({ type: 'keyword' });
    expect(server.received[4]!.body).toEqual({ actions: [{ add: { index: 'vidsearch-text-v1', alias: 'vidsearch-text', is_write_index: true } }] });
  });

  it('migrates an older index forward: bigram fallback without the plugin, reindex, one atomic alias swap', async () => {
    server.replay(loadExchanges('elastic/migrate.json'));
    const result = await migrateTextIndex(index.client, 'vidsearch');
    server.expectDone();
    expect(result).toMatchObject({ index: 'vidsearch-text-v1', action: 'migrated', meta: { chineseAnalyzer: 'cjk_bigram' } });
    const template = server.received[3]!.body as { template: { settings: { analysis: { analyzer: Record<string, { tokenizer: string }> } } } };
    expect(template.template.settings.analysis.analyzer.vs_words!.tokenizer).toBe('standard');
    expect(server.received[5]!.body).toEqual({ source: { index: 'vidsearch-text-v0' }, dest: { index: 'vidsearch-text-v1', op_type: 'index' } });
    expect(server.received[6]!.body).toEqual({
      actions: [{ remove: { index: 'vidsearch-text-v0', alias: 'vidsearch-text' } }, { add: { index: 'vidsearch-text-v1', alias: 'vidsearch-text', is_write_index: true } }],
    });
  });

  it('refuses an index whose schema is newer than this build', async () => {
    server.replay(loadExchanges('elastic/too-new.json'));
    await expect(migrateTextIndex(index.client, 'vidsearch')).rejects.toThrow(SchemaTooNewError);
    server.expectDone();
  });

  it('searches with every term first, falls back to any term; collapses per segment; total from distinct segments', async () => {
    server.replay(loadExchanges('elastic/search-fallback.json'));
    const result = await index.search({ query: '技术上的问题 running', videoIds: ['v1', 'v2'], series: null, from: 2, to: 30, kinds: ['SUBTITLE'], limit: 5, offset: 10 });
    server.expectDone();
    const [strict, loose] = server.received.map((r) => r.body as Record<string, unknown>);
    expect(strict).toMatchObject({
      from: 10,
      size: 5,
      collapse: { field: 'segmentId' },
      aggs: { segments: { cardinality: { field: 'segmentId', precision_threshold: 40000 } } },
      sort: [{ _score: { order: 'desc' } }, { id: { order: 'asc' } }],
      query: {
        bool: {
          must: [{ multi_match: { query: '技术上的问题 running', fields: ['text', 'text.en', 'text.gram'], type: 'most_fields', operator: 'and' } }],
          filter: [{ terms: { videoId: ['v1', 'v2'] } }, { terms: { kind: ['SUBTITLE'] } }, { range: { end: { gte: 2 } } }, { range: { start: { lte: 30 } } }],
        },
      },
    });
    expect(loose).toMatchObject({ query: { bool: { must: [{ multi_match: { operator: 'or' } }] } } });
    expect(result).toMatchObject({ total: 2, totalIsExact: true });
    expect(result.hits.map((h) => [h.doc.id, h.score])).toEqual([
      ['zh2', 7.31],
      ['en2', 2.05],
    ]);
    expect(result.hits[0]!.doc).toEqual(textDoc('zh2', 'v1', 1, '这是技术上的问题，不是态度问题'));
    expect(result.hits[0]!.snippet).toBe('这是<em>技术上的问题</em>，不是态度<em>问题</em>');
    expect(result.hits[1]!.snippet).toBe('She was <em>RUNNING</em> late for the &lt;<em>meeting</em>&gt; &amp; &quot;more&quot;');
  });

  it('counts distinct segments exactly up to the total bound, and past it reports the bound as inexact', async () => {
    server.replay(loadExchanges('elastic/search-bounded-total.json'));
    const over = await index.search({ query: 'rain', limit: 3, offset: 0 });
    const at = await index.search({ query: 'rain', limit: 3, offset: 0 });
    server.expectDone();
    expect(over).toMatchObject({ total: TEXT_TOTAL_BOUND, totalIsExact: false });
    expect(over.hits.map((h) => h.doc.id)).toEqual(['r1', 'r2', 'r3']);
    expect(at).toMatchObject({ total: TEXT_TOTAL_BOUND, totalIsExact: true });
    // One request per page: the count rides on the search (no second round trip), collapsed per segment.
    expect(server.received.map((r) => (r.body as { aggs: unknown }).aggs)).toEqual([
      { segments: { cardinality: { field: 'segmentId', precision_threshold: 40000 } } },
      { segments: { cardinality: { field: 'segmentId', precision_threshold: 40000 } } },
    ]);
  });

  it('answers empty id/kind filters and blank queries without a request', async () => {
    const none = { hits: [], total: 0, totalIsExact: true };
    expect(await index.search({ query: 'rain', videoIds: [], limit: 5, offset: 0 })).toEqual(none);
    expect(await index.search({ query: 'rain', kinds: [], limit: 5, offset: 0 })).toEqual(none);
    expect(await index.search({ query: '  ', limit: 5, offset: 0 })).toEqual(none);
    expect(server.received).toEqual([]);
  });

  it('replaces a video: bulk with idempotent ids (a 429 item retried) waiting for the refresh, then deletes only the old documents', async () => {
    server.replay(loadExchanges('elastic/replace-video.json'));
    await index.replaceVideo('v1', [textDoc('n1', 'v1', 0, 'fresh subtitles'), textDoc('n2', 'v1', 1, '新的字幕')]);
    server.expectDone();
    const [first, retry, cleanup] = server.received;
    expect(first!.body).toEqual([
      { index: { _index: 'vidsearch-text', _id: 'n1' } },
      textDoc('n1', 'v1', 0, 'fresh subtitles'),
      { index: { _index: 'vidsearch-text', _id: 'n2' } },
      textDoc('n2', 'v1', 1, '新的字幕'),
    ]);
    expect(retry!.body).toEqual([{ index: { _index: 'vidsearch-text', _id: 'n1' } }, textDoc('n1', 'v1', 0, 'fresh subtitles')]);
    expect(cleanup!.body).toEqual({ query: { bool: { filter: [{ term: { videoId: 'v1' } }], must_not: [{ ids: { values: ['n1', 'n2'] } }] } } });
  });
});

describe('snippets from several highlighted views', () => {
  it('unions and merges touching ranges, escaping the original text', () => {
    expect(renderSnippet('今天天气很好', ['今天\u0001天气\u0002很好', '今\u0001天天\u0002气很好'])).toBe('今<em>天天气</em>很好');
    expect(renderSnippet('a<b', [])).toBe('a&lt;b');
    expect(renderSnippet('ＦＵＬＬ　ｗｉｄｔｈ', ['ＦＵＬＬ　\u0001ｗｉｄｔｈ\u0002'])).toBe('ＦＵＬＬ　<em>ｗｉｄｔｈ</em>');
  });
});
