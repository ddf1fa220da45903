// The image search a serving worker calls in the image-search process (serve --workers N): a
// request and its answer cross a JSON channel unchanged — upload bytes and imageBase64 kept apart,
// filter, first, method, per-phase timings, the stored frame's bytes.
import { describe, expect, it } from 'vitest';
import type { VideoRecord } from '../../src/domain.js';
import type { ImageMatch, ImageSearchOptions, ImageSearchRequest, ImageSearchService } from '../../src/services/image-search/index.js';
import { imageSearchHandlers, remoteImageSearch } from '../../src/services/image-search/remote.js';

const video = { id: 'v1', title: 'Episode 1', createdAt: '2026-01-01T00:00:00.000Z' } as VideoRecord;
const match: ImageMatch = { video, from: 10, to: 12, at: 11, similarity: 0.93, timeConfidence: 0.7, segmentId: 's3', frameTime: 11.04, descriptorScore: 0.81, inliers: 44, rivalInliers: 6, momentMargin: 0.12 };

/** A service that records what reached it. */
function recordingService() {
  const seen: { request: ImageSearchRequest; options: ImageSearchOptions | undefined }[] = [];
  const service: ImageSearchService = {
    async searchByImage(request, options) {
      seen.push({ request, options });
      if (options?.phases) options.phases.cnn = { ms: 12.5, cpuMs: 10, calls: 2 };
      return [match];
    },
    async matchFrame(videoId, time) {
      return videoId === 'v1' && time === 11.04 ? new Uint8Array([0xff, 0xd8, 0x00, 0xff, 0xd9]) : null;
    },
  };
  return { service, seen };
}

/** The other process, reached over a JSON channel like node's IPC. */
function overJson(service: ImageSearchService): ImageSearchService {
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

  it('returns a stored frame’s bytes, and null for none', async () => {
    const remote = overJson(recordingService().service);
    expect([...(await remote.matchFrame('v1', 11.04))!]).toEqual([0xff, 0xd8, 0x00, 0xff, 0xd9]);
    expect(await remote.matchFrame('v1', 3)).toBeNull();
  });
});
