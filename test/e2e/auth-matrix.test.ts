// Role enforcement against API.md's table, over the real HTTP server, embedded store and services.
// The operations come from the committed schema/schema.graphql, so an operation added later is
// covered at once, and one missing from ROLE_TABLE fails here until somebody decides who may call
// it. Every operation is called by every kind of caller with generated arguments: no key and an
// unknown key → UNAUTHENTICATED, a role outside the row → FORBIDDEN, a role in it → past the check.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { roleFromAuthorization } from '../../src/resolvers/auth.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createServices } from '../../src/services/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { schemaOperations } from './auth-matrix-operations.js';

type Access = 'read' | 'ads' | 'editor';

/** API.md "Roles", one row per operation. */
const ROLE_TABLE: Record<string, Access> = {
  // read queries
  videos: 'read', video: 'read', segment: 'read', searchSegments: 'read', onlyWatch: 'read', actorTimeline: 'read',
  actors: 'read', actor: 'read', appearances: 'read', searchByImage: 'read', highlights: 'read', technicalCues: 'read',
  // ads (`ad` is the single-ad read of the `ads` row)
  // (`adMatching` is matchAds with what brand safety left out: the same row)
  matchAds: 'ads', adMatching: 'ads', adBreaks: 'ads', ads: 'ads', ad: 'ads', upsertAd: 'ads', deleteAd: 'ads',
  // editing and operations (`job` is the single-job read of `jobs`; highlight feedback is
  // markHighlight plus the scorer state it changes)
  jobs: 'editor', job: 'editor', indexVideo: 'editor', cancelJob: 'editor', deleteVideo: 'editor', updateVideo: 'editor',
  enrollActor: 'editor', updateActor: 'editor', deleteActor: 'editor', faceClusters: 'editor', nameFaceCluster: 'editor',
  mergeActors: 'editor', moveFaces: 'editor', keywordLists: 'editor', addKeywords: 'editor', removeKeywords: 'editor',
  flaggedSegments: 'editor', markHighlight: 'editor', highlightModel: 'editor', purgeUnknownFaces: 'editor',
  // voice clusters mirror the face-cluster rows
  voiceClusters: 'editor', nameVoiceCluster: 'editor',
  // Not in API.md's table yet: cutting media files out of the library is an editor's operation.
  exportClip: 'editor',
  // Issue 11: the merged moderation view guides ad placement (ads, editors); skip markers are edited.
  moderation: 'ads', setSkipMarker: 'editor', resetSkipMarker: 'editor',
};

const ALLOWED: Record<Access, readonly string[]> = { read: ['search', 'ads', 'editor'], ads: ['ads', 'editor'], editor: ['editor'] };

const CALLERS = [
  { name: 'no key', header: null, role: null },
  { name: 'unknown key', header: 'Bearer not-a-key', role: null },
  { name: 'search', header: 'Bearer s-key', role: 'search' },
  { name: 'ads', header: 'Bearer a-key', role: 'ads' },
  { name: 'editor', header: 'Bearer e-key', role: 'editor' },
] as const;

const operations = schemaOperations();

interface GraphqlBody {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

describe('role matrix over every operation in schema/schema.graphql', () => {
  let root: string;
  let store: Store;
  let server: RunningServer;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'vidsearch-authz-'));
    // A high rate limit: this test sends a few hundred requests on purpose.
    const config = loadConfig(
      { VIDSEARCH_DATA_DIR: path.join(root, 'data'), VIDSEARCH_API_KEYS: 's-key:search,a-key:ads,e-key:editor', VIDSEARCH_RATE_PER_SEC: '1000', VIDSEARCH_RATE_BURST: '1000' },
      root,
    );
    const log = pino({ level: 'silent' });
    store = await openEmbeddedStore(config.dataDir);
    server = await startServer({ config, store, services: createServices({ store, media: resolveMediaTools(config), config, log }), log }, { port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('finds the operations in the schema file', () => {
    expect(operations.length).toBeGreaterThan(20);
    expect(operations.map((o) => o.name)).toEqual(expect.arrayContaining(['searchSegments', 'indexVideo', 'jobs', 'deleteVideo']));
  });

  it.each(operations)('$name: every caller gets what the role table says', async ({ name, text }) => {
    const access = ROLE_TABLE[name];
    expect(access, `${name} is in the schema but not in ROLE_TABLE (API.md): decide who may call it`).toBeDefined();
    const seen: Record<string, string> = {};
    for (const caller of CALLERS) {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(caller.header ? { authorization: caller.header } : {}) },
        body: JSON.stringify({ query: text }),
      });
      const body = (await res.json()) as GraphqlBody;
      const codes = (body.errors ?? []).map((e) => e.extensions?.code ?? '?');
      const expected = caller.role === null ? 'UNAUTHENTICATED' : ALLOWED[access!].includes(caller.role) ? 'allowed' : 'FORBIDDEN';
      // Allowed callers get data or an ordinary answer about the made-up arguments (NOT_FOUND,
      // BAD_USER_INPUT…), never an auth error and never a crash.
      const got = codes.some((c) => c === 'UNAUTHENTICATED' || c === 'FORBIDDEN' || c === 'INTERNAL_SERVER_ERROR')
        ? codes.join(',')
        : 'allowed';
      seen[caller.name] = got === expected ? expected : `${got} (expected ${expected}; ${body.errors?.[0]?.message ?? 'no error'})`;
    }
    const want = Object.fromEntries(CALLERS.map((c) => [c.name, c.role === null ? 'UNAUTHENTICATED' : ALLOWED[access!].includes(c.role) ? 'allowed' : 'FORBIDDEN']));
    expect(seen, text).toEqual(want);
  });
});

describe('without API keys', () => {
  it('binds to 127.0.0.1 only (every caller is an editor)', () => {
    expect(loadConfig({ VIDSEARCH_HOST: '0.0.0.0' }).host).toBe('127.0.0.1');
    expect(loadConfig({ VIDSEARCH_API_KEYS: 'k:search' }).host).toBe('0.0.0.0');
    expect(roleFromAuthorization(undefined, new Map())).toBe('editor');
  });
});
