// Image search answered by another process. With `serve --workers N` one image-search process
// holds the frame matrix, the CNN and the ORB threads for every serving worker (each worker would
// otherwise hold its own ~600 MB at 100k frames); serving workers call it through the cluster
// primary (src/commands/serve-cluster.ts). Requests and answers cross as JSON: bytes as base64.
import type { ImageMatch, ImageSearchFilter, ImageSearchMethod, ImageSearchService, PhaseTimings } from './types.js';

/** The image-search process's methods. */
export const IMAGE_SEARCH_METHODS = { search: 'images.search', matchFrame: 'images.matchFrame' } as const;

export type RemoteCall = (method: string, args: unknown) => Promise<unknown>;

interface SearchCall {
  /** The upload's bytes, base64 (an upload and imageBase64 stay apart: their limits differ). */
  imageBytes: string | null;
  imageBase64: string | null;
  filter: ImageSearchFilter | null;
  first: number | null;
  method: ImageSearchMethod | null;
  /** The caller wants per-phase timings back. */
  timed: boolean;
}

interface SearchAnswer {
  matches: ImageMatch[];
  phases: PhaseTimings | null;
}

interface FrameCall {
  videoId: string;
  time: number;
}

/** An ImageSearchService whose every call runs in the process `call` reaches. */
export function remoteImageSearch(call: RemoteCall): ImageSearchService {
  return {
    async searchByImage(request, options = {}) {
      const args: SearchCall = {
        imageBytes: request.image ? request.image.toString('base64') : null,
        imageBase64: request.imageBase64 ?? null,
        filter: request.filter ?? null,
        first: request.first ?? null,
        method: options.method ?? null,
        timed: options.phases !== undefined,
      };
      const answer = (await call(IMAGE_SEARCH_METHODS.search, args)) as SearchAnswer;
      if (options.phases && answer.phases) Object.assign(options.phases, answer.phases);
      return answer.matches;
    },
    async matchFrame(videoId, time) {
      const jpeg = (await call(IMAGE_SEARCH_METHODS.matchFrame, { videoId, time } satisfies FrameCall)) as string | null;
      return jpeg === null ? null : Buffer.from(jpeg, 'base64');
    },
  };
}

/** The handlers of the process that serves `service` to remoteImageSearch callers. */
export function imageSearchHandlers(service: ImageSearchService): Record<string, (args: unknown) => Promise<unknown>> {
  return {
    async [IMAGE_SEARCH_METHODS.search](raw) {
      const args = raw as SearchCall;
      const phases: PhaseTimings | undefined = args.timed ? {} : undefined;
      const matches = await service.searchByImage(
        { image: args.imageBytes === null ? null : Buffer.from(args.imageBytes, 'base64'), imageBase64: args.imageBase64, filter: args.filter, first: args.first },
        { ...(args.method ? { method: args.method } : {}), ...(phases ? { phases } : {}) },
      );
      return { matches, phases: phases ?? null } satisfies SearchAnswer;
    },
    async [IMAGE_SEARCH_METHODS.matchFrame](raw) {
      const { videoId, time } = raw as FrameCall;
      const jpeg = await service.matchFrame(videoId, time);
      return jpeg === null ? null : Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength).toString('base64');
    },
  };
}
