// Image searches of `serve --workers N` are admitted once, in the image-search process: calls
// from any number of HTTP workers share its slots and its line, so the configured limits hold
// server-wide, and a refusal reaches each worker as the 429 ServerBusyError it stands for.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ServerBusyError } from '../../src/http/admission.js';
import { admittedImageSearch, asServerBusy, imageProcessAdmission } from '../../src/http/image-admission.js';
import { AppError } from '../../src/errors.js';
import type { ImageMatch, ImageSearcher } from '../../src/services/image-search/index.js';
import { imageSearchHandlers, remoteImageSearch } from '../../src/services/image-search/remote.js';

/** A search that runs until the test finishes it. */
function heldService() {
  const running: (() => void)[] = [];
  const service: ImageSearcher = {
    searchByImage: () => new Promise<ImageMatch[]>((resolve) => running.push(() => resolve([]))),
  };
  return { service, running };
}

/** An HTTP worker's view of the image-search process: JSON across, refusals turned back into 429s. */
function workerOf(handlers: ReturnType<typeof imageSearchHandlers>): ImageSearcher {
  return remoteImageSearch(async (method, args) => {
    try {
      return JSON.parse(JSON.stringify(await handlers[method]!(JSON.parse(JSON.stringify(args)))));
    } catch (err) {
      // What cluster-ipc carries across: an AppError's code, message and extensions.
      const crossed = err instanceof AppError ? new AppError(err.code, err.message, JSON.parse(JSON.stringify(err.extensions))) : err;
      throw asServerBusy(crossed);
    }
  });
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('image-search admission shared by every HTTP worker', () => {
  it('holds the configured slots and line across workers and refuses the rest with 429', async () => {
    // 1 slot and a line of 1, for a cluster of 3 workers: per-worker parts would have run 3 at once.
    const config = loadConfig({ VIDSEARCH_WORKERS: '3', VIDSEARCH_MAX_IMAGE_SEARCHES: '1', VIDSEARCH_ADMISSION_QUEUE: '1', VIDSEARCH_ADMISSION_WAIT_SEC: '5' });
    const { service, running } = heldService();
    const admission = imageProcessAdmission(config.admission);
    const handlers = imageSearchHandlers(admittedImageSearch(service, admission));
    const workers = [workerOf(handlers), workerOf(handlers), workerOf(handlers)];

    const first = workers[0]!.searchByImage({ imageBase64: 'AAAA' });
    const second = workers[1]!.searchByImage({ imageBase64: 'AAAA' });
    await settled();
    expect(running).toHaveLength(1);
    expect(admission.snapshot()).toEqual([{ kind: 'imageSearch', active: 1, waiting: 1, slots: 1, queueLimit: 1 }]);

    const refused = await workers[2]!.searchByImage({ imageBase64: 'AAAA' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ServerBusyError);
    expect((refused as ServerBusyError).extensions).toMatchObject({ code: 'RATE_LIMITED', kind: 'imageSearch', http: { status: 429 } });
    expect((refused as ServerBusyError).retryAfter).toBeGreaterThanOrEqual(1);

    // The slot passes to the waiting call of the other worker once the first search ends.
    running[0]!();
    expect(await first).toEqual([]);
    await settled();
    expect(running).toHaveLength(2);
    running[1]!();
    expect(await second).toEqual([]);
    expect(admission.snapshot()[0]).toMatchObject({ active: 0, waiting: 0 });
  });

  it('passes every other error through unchanged', () => {
    const bad = new AppError('BAD_USER_INPUT', 'not an image');
    expect(asServerBusy(bad)).toBe(bad);
    const plain = new Error('boom');
    expect(asServerBusy(plain)).toBe(plain);
  });
});
