// Image searches of `serve --workers N` are admitted in the one image-search process, where they
// run: one set of slots and one line for every HTTP worker, so VIDSEARCH_MAX_IMAGE_SEARCHES and
// VIDSEARCH_ADMISSION_QUEUE hold server-wide. (Per-worker parts gave each worker at least one slot,
// so N workers ran N searches at once on a limit of 1, and one worker's line refused while
// another's stood empty; the slot also held for the request's whole life, not the search's.)
// A refusal crosses the process boundary as an AppError RATE_LIMITED and becomes the
// ServerBusyError it stands for (429, Retry-After) again in the HTTP worker.
import type { AdmissionConfig } from '../config.js';
import { AppError } from '../errors.js';
import type { ImageSearcher } from '../services/image-search/index.js';
import { Admission, gateLimitsFrom, ServerBusyError, type AdmissionKind, type RefusalReason, type Release } from './admission.js';

/** The kinds the image-search process admits; an HTTP worker of the cluster takes no slot for them. */
export const ADMITTED_BY_IMAGE_PROCESS: readonly AdmissionKind[] = ['imageSearch'];

/** The image-search process's admission: the configured image-search limits, whole. */
export function imageProcessAdmission(config: AdmissionConfig): Admission {
  return new Admission({ imageSearch: gateLimitsFrom(config).imageSearch });
}

/** `service` whose searches (plain or the picture side of a hybrid search) each hold an imageSearch slot while they run. */
export function admittedImageSearch(service: ImageSearcher, admission: Admission): ImageSearcher {
  return {
    async searchByImage(request, options) {
      let release: Release;
      try {
        release = await admission.admit(['searchByImage']);
      } catch (err) {
        throw err instanceof ServerBusyError ? new AppError('RATE_LIMITED', err.message, { kind: err.kind, reason: err.reason, retryAfter: err.retryAfter }) : err;
      }
      try {
        return await service.searchByImage(request, options);
      } finally {
        release();
      }
    },
  };
}

/** In an HTTP worker: a refusal the image-search process sent back, as the 429 it stands for; any other error as it is. */
export function asServerBusy(err: unknown): unknown {
  if (err instanceof AppError && err.code === 'RATE_LIMITED' && typeof err.extensions.kind === 'string') {
    const { kind, reason, retryAfter } = err.extensions as { kind: AdmissionKind; reason: RefusalReason; retryAfter: number };
    return new ServerBusyError(kind, reason, retryAfter);
  }
  return err;
}
