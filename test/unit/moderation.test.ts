// Keyword moderation: normalised matching, library re-checks from stored cues (no video is read),
// the SQLite repository, and the GraphQL operations (editor role only).
import { codeOf } from '../helpers/errors.js';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApolloServer } from '@apollo/server';
import { createApolloServer } from '../../src/http/graphql.js';
import { MediaUrlSigner } from '../../src/http/media-urls.js';
import { createRequestContext, type RequestContext } from '../../src/resolvers/context.js';
import { buildVidsearchSchema } from '../../src/resolvers/schema.js';
import type { Services } from '../../src/services/index.js';
import { buildKeywordMatcher, createModerationService, type ModerationService } from '../../src/services/moderation.js';
import { EmbeddedModerationRepository, MODERATION_MIGRATION_SQL } from '../../src/store/embedded/moderation.js';
import type { FlagRecord } from '../../src/store/moderation.js';
import { normalizeForScoring, normalizeText } from '../../src/text/normalize.js';
import { createFakeStore, seedVideo, type FakeStore } from '../helpers/fake-store.js';

const log = pino({ level: 'silent' });

describe('text normalisation', () => {
  it('folds width, script, case, spaces and punctuation', () => {
    expect(normalizeText('ＶＰＮ 翻牆')).toBe('vpn翻墙');
    expect(normalizeText('微 信.號：abc-12')).toBe('微信号abc12');
    expect(normalizeText('…！？')).toBe('');
  });

  it('keeps punctuation and script for scoring, as EVAL.md defines', () => {
    expect(normalizeForScoring(' Ａb，們 ')).toBe('ab,們');
  });
});

describe('keyword matcher', () => {
  const matcher = buildKeywordMatcher([
    { name: 'ads', keywords: ['加微信', 'VPN'], updatedAt: '' },
    { name: 'politics', keywords: ['翻墙'], updatedAt: '' },
  ]);

  it('sees through filter-dodging spellings', () => {
    expect(matcher('快 加-微.信 领红包')).toEqual([{ list: 'ads', keyword: '加微信' }]);
    expect(matcher('免费ｖｐｎ，教你翻牆')).toEqual([
      { list: 'ads', keyword: 'VPN' },
      { list: 'politics', keyword: '翻墙' },
    ]);
    expect(matcher('今天天气不错')).toEqual([]);
  });
});

function moderationOver(store: FakeStore): ModerationService {
  return createModerationService({ catalog: store.catalog, moderation: store.moderation, log });
}

describe('moderation service', () => {
  it('flags stored cues, re-checks the library from stored cues only when something changed', async () => {
    const store = createFakeStore();
    const a = await seedVideo(store, { video: { status: 'READY' }, cueText: (i) => ['hello', '加 微 信 送礼', '再见'][i]! });
    await seedVideo(store, { video: { status: 'READY' }, segmentCount: 2, cueText: (i) => ['看看ＶＰＮ', 'nothing'][i]! });
    await seedVideo(store, { video: { status: 'INDEXING' }, segmentCount: 1, cueText: () => '加微信' });
    const moderation = moderationOver(store);

    store.resetCalls();
    await moderation.addKeywords('ads', ['加微信', ' vpn ']);
    // Only READY videos are read, and only their stored cues: no media tool is involved at all.
    expect(store.callCount('catalog.getCues')).toBe(2);
    const page = await moderation.flaggedSegments(10, null);
    expect(page.totalCount).toBe(2);
    const flag = page.edges.find((e) => e.node.videoId === a.video.id)!.node;
    expect(flag).toMatchObject({ keyword: '加微信', list: 'ads', text: '加 微 信 送礼', start: 11, end: 13, segmentId: a.segments[1]!.id });

    // Nothing changed: the next read re-reads no cues.
    store.resetCalls();
    await moderation.flaggedSegments(10, null);
    expect(store.callCount('catalog.getCues')).toBe(0);

    // Removing a keyword re-checks from stored cues and drops its flags.
    const left = await moderation.removeKeywords('ads', ['vpn']);
    expect(left?.keywords).toEqual(['加微信']);
    expect((await moderation.flaggedSegments(10, null)).totalCount).toBe(1);

    // A deleted video loses its flags.
    await store.catalog.deleteVideo(a.video.id);
    expect((await moderation.flaggedSegments(10, null)).totalCount).toBe(0);
  });

  it('pages flags with cursors', async () => {
    const store = createFakeStore();
    await seedVideo(store, { video: { status: 'READY' }, segmentCount: 5, cueText: (i) => `广告${i}` });
    const moderation = moderationOver(store);
    await moderation.addKeywords('ads', ['广告']);
    const first = await moderation.flaggedSegments(2, null);
    expect(first.edges).toHaveLength(2);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = await moderation.flaggedSegments(10, first.pageInfo.endCursor);
    expect(rest.edges.map((e) => e.node.text)).toEqual(['广告2', '广告3', '广告4']);
  });

  it('rejects empty, oversized and punctuation-only input', async () => {
    const moderation = moderationOver(createFakeStore());
    expect(await codeOf(moderation.addKeywords(' ', ['x']))).toBe('BAD_USER_INPUT');
    expect(await codeOf(moderation.addKeywords('ads', []))).toBe('BAD_USER_INPUT');
    expect(await codeOf(moderation.addKeywords('ads', ['…！']))).toBe('BAD_USER_INPUT');
    expect(await codeOf(moderation.addKeywords('ads', ['x'.repeat(101)]))).toBe('BAD_USER_INPUT');
    expect(await codeOf(moderation.flaggedSegments(1000, null))).toBe('BAD_USER_INPUT');
  });
});

describe('EmbeddedModerationRepository', () => {
  const open = (): EmbeddedModerationRepository => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    db.exec(MODERATION_MIGRATION_SQL);
    return new EmbeddedModerationRepository(db);
  };
  const flag = (videoId: string, start: number, id: string): FlagRecord => ({
    id,
    videoId,
    segmentId: null,
    cueId: `cue-${id}`,
    list: 'ads',
    keyword: 'k',
    text: 't',
    start,
    end: start + 1,
    kind: 'SUBTITLE',
  });

  it('keeps lists in order, ignores duplicates, deletes emptied lists and bumps the version', async () => {
    const repo = open();
    expect(await repo.keywordsVersion()).toBe(0);
    await repo.addKeywords('ads', ['b', 'a']);
    expect((await repo.addKeywords('ads', ['a', 'c'])).keywords).toEqual(['b', 'a', 'c']);
    expect(await repo.keywordsVersion()).toBe(2);
    expect((await repo.removeKeywords('ads', ['a']))?.keywords).toEqual(['b', 'c']);
    expect(await repo.removeKeywords('ads', ['b', 'c'])).toBeNull();
    expect(await repo.listKeywordLists()).toEqual([]);
    expect(await repo.keywordsVersion()).toBe(4);
  });

  it('replaces a video’s flags with its check and pages by video then time', async () => {
    const repo = open();
    await repo.replaceFlags({ videoId: 'v2', keywordsVersion: 1, videoUpdatedAt: 't1' }, [flag('v2', 5, 'x'), flag('v2', 1, 'y')]);
    await repo.replaceFlags({ videoId: 'v1', keywordsVersion: 1, videoUpdatedAt: 't1' }, [flag('v1', 3, 'z')]);
    const first = await repo.listFlags({ first: 2 });
    expect(first.items.map((f) => f.id)).toEqual(['z', 'y']);
    expect(first.totalCount).toBe(3);
    const second = await repo.listFlags({ first: 2, after: first.endCursor });
    expect(second.items.map((f) => f.id)).toEqual(['x']);
    expect(second.hasNextPage).toBe(false);
    await repo.replaceFlags({ videoId: 'v2', keywordsVersion: 2, videoUpdatedAt: 't2' }, []);
    expect((await repo.listFlags({ first: 10 })).totalCount).toBe(1);
    expect(await repo.listChecks()).toContainEqual({ videoId: 'v2', keywordsVersion: 2, videoUpdatedAt: 't2' });
    await repo.deleteVideo('v1');
    expect((await repo.listFlags({ first: 10 })).totalCount).toBe(0);
  });
});

describe('GraphQL moderation operations', () => {
  let server: ApolloServer<RequestContext>;
  const store = createFakeStore();
  const services = { moderation: moderationOver(store) } as Pick<Services, 'moderation'> as Services;
  const signer = new MediaUrlSigner(Buffer.from('moderation-test-secret-0123456789'));
  const keys = new Map([
    ['ed', 'editor'],
    ['se', 'search'],
  ] as const);

  beforeAll(async () => {
    server = createApolloServer({ schema: await buildVidsearchSchema(), log });
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  async function gql(query: string, key: string) {
    const contextValue = createRequestContext({ services, apiKeys: keys, mediaUrls: signer }, `Bearer ${key}`);
    const response = await server.executeOperation({ query }, { contextValue });
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    return response.body.singleResult;
  }

  it('lets editors manage lists and read flags, and refuses other roles', async () => {
    await seedVideo(store, { video: { status: 'READY' }, segmentCount: 1, cueText: () => '代 購 正品' });
    const added = await gql('mutation { addKeywords(list: "ads", keywords: ["代购"]) { name keywords } }', 'ed');
    expect(added.errors).toBeUndefined();
    expect(added.data).toEqual({ addKeywords: { name: 'ads', keywords: ['代购'] } });
    const flags = await gql('{ flaggedSegments(first: 5) { totalCount edges { node { keyword list text start end evidenceThumbnailUrl } } } }', 'ed');
    expect(flags.errors).toBeUndefined();
    const node = (flags.data as { flaggedSegments: { edges: { node: Record<string, unknown> }[] } }).flaggedSegments.edges[0]!.node;
    expect(node).toMatchObject({ keyword: '代购', list: 'ads', text: '代 購 正品', start: 1, end: 3 });
    expect(String(node.evidenceThumbnailUrl)).toMatch(/^\/media\/keyframe\/.+sig=/);
    const denied = await gql('{ keywordLists { name } }', 'se');
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
