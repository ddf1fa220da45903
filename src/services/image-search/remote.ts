// Image search answered by another process. With `serve --workers N` one image-search process
// holds the frame matrix, the CNN and the ORB threads for every serving worker (each worker would
// otherwise hold its own ~600 MB at 100k frames); serving workers call it through the cluster
// primary (src/commands/serve-cluster.ts). Requests and answers cross as JSON: bytes as base64.
// Only searches cross: a match's stored frame (thumbnails) is read from the store by the worker
// itself (storedMatchFrame), not queued behind the searches that process is running.
import type { ImageMatch, ImageSearcher, ImageSearchFilter, ImageSearchMethod, PhaseTimings } from './types.js';

/** The image-search process's methods. */
export const IMAGE_SEARCH_METHODS = { search: 'images.search' } as const;

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

/** An ImageSearcher whose every search runs in the process `call` reaches. */
export function remoteImageSearch(call: RemoteCall): ImageSearcher {
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
  };
}

/** The handlers of the process that serves `service` to remoteImageSearch callers. */
export function imageSearchHandlers(service: ImageSearcher): Record<string, (args: unknown) => Promise<unknown>> {
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
  };
}
