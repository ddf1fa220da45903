// The image search a serving worker calls in the image-search process (serve --workers N): a
// request and its answer cross a JSON channel unchanged — upload bytes and imageBase64 kept apart,
// filter, first, method, per-phase timings. A match's stored frame does not cross: the worker
// reads it from its own store.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { VideoRecord } from '../../src/domain.js';
import { frameEvidenceModel } from '../../src/indexers/frames.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { ORB_FEATURES, OrbMatcher } from '../../src/models/image-descriptors/local-features.js';
import type { ImageMatch, ImageSearcher, ImageSearchOptions, ImageSearchRequest } from '../../src/services/image-search/index.js';
import { imageSearchHandlers, remoteImageSearch } from '../../src/services/image-search/remote.js';
import { createServices } from '../../src/services/index.js';
import { createFakeStore } from '../helpers/fake-store.js';

const video = { id: 'v1', title: 'Episode 1', createdAt: '2026-01-01T00:00:00.000Z' } as VideoRecord;
const match: ImageMatch = { video, from: 10, to: 12, at: 11, similarity: 0.93, timeConfidence: 0.7, segmentId: 's3', frameTime: 11.04, descriptorScore: 0.81, inliers: 44, rivalInliers: 6, momentMargin: 0.12 };

/** A service that records what reached it. */
function recordingService() {
  const seen: { request: ImageSearchRequest; options: ImageSearchOptions | undefined }[] = [];
  const service: ImageSearcher = {
    async searchByImage(request, options) {
      seen.push({ request, options });
      if (options?.phases) options.phases.cnn = { ms: 12.5, cpuMs: 10, calls: 2 };
      return [match];
    },
  };
  return { service, seen };
}

/** The other process, reached over a JSON channel like node's IPC. */
function overJson(service: ImageSearcher): ImageSearcher {
  const handlers = imageSearchHandlers(service);
  return remoteImageSearch(async (method, args) => JSON.parse(JSON.stringify(await handlers[method]!(JSON.parse(JSON.stringify(args))))));
}

describe('image search in another process', () => {
  it('passes the request across unchanged and brings the matches and timings back', async () => {
    const { service, seen } = recordingService();
    const remote = overJson(service);
    const upload = Buffer.from([1, 2, 3, 250, 0]);
    const phases = {};
    const matches = await remote.searchByImage({ image: upload, filter: { series: 'S', videoIds: ['v1'] }, first: 5 }, { method: 'colorlayout', phases });
    expect(matches).toEqual([match]);
    expect(phases).toEqual({ cnn: { ms: 12.5, cpuMs: 10, calls: 2 } });
    expect(Buffer.compare(seen[0]!.request.image!, upload)).toBe(0);
    expect(seen[0]!.request).toMatchObject({ imageBase64: null, filter: { series: 'S', videoIds: ['v1'] }, first: 5 });
    expect(seen[0]!.options).toEqual({ method: 'colorlayout', phases: { cnn: { ms: 12.5, cpuMs: 10, calls: 2 } } });

    // imageBase64 stays imageBase64 (its own limits and data: prefix); no options, none measured.
    await remote.searchByImage({ imageBase64: 'data:image/png;base64,AAAA' });
    expect(seen[1]!.request).toMatchObject({ image: null, imageBase64: 'data:image/png;base64,AAAA', filter: null, first: null });
    expect(seen[1]!.options).toEqual({});
  });

  it('serves a match’s stored frame from the worker’s own store, never calling the image-search process', async () => {
    const store = createFakeStore();
    const jpeg = new Uint8Array([0xff, 0xd8, 0x00, 0xff, 0xd9]);
    // The evidence rows image search verifies against: its ORB matcher's model.
    await store.frameEvidence.add('v1', frameEvidenceModel(new OrbMatcher(ORB_FEATURES)), [{ time: 11.04, picture: jpeg, features: new Uint8Array(0), repeat: false, thumbnail: null }]);
    await store.frameEvidence.add('v1', 'another-model', [{ time: 12, picture: new Uint8Array([1]), features: new Uint8Array(0), repeat: false, thumbnail: null }]);
    const calls: string[] = [];
    const remote = remoteImageSearch(async (method) => {
      calls.push(method);
      return { matches: [], phases: null };
    });
    const config = loadConfig({ VIDSEARCH_DATA_DIR: '/nonexistent/vidsearch-test' }, '/');
    const { imageSearch } = createServices({ store, media: resolveMediaTools(config), config, log: pino({ level: 'silent' }), imageSearch: remote });
    expect([...(await imageSearch.matchFrame('v1', 11.04))!]).toEqual([...jpeg]);
    expect(await imageSearch.matchFrame('v1', 12)).toBeNull();
    expect(await imageSearch.matchFrame('v1', 3)).toBeNull();
    expect(calls).toEqual([]);
    // Searches still go to the other process.
    expect(await imageSearch.searchByImage({ imageBase64: 'AAAA' })).toEqual([]);
    expect(calls).toEqual(['images.search']);
  });
});
