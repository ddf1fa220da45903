// Record logic every Catalog backend shares, so the backends differ only in storage.
import type { CueRecord, VideoMetadataPatch, VideoRecord } from '../domain.js';
import { BadInputError } from '../errors.js';
import type { Catalog } from './interfaces.js';

/** Same order as `ids`, null where missing. */
export function inOrder<T extends { id: string }>(ids: readonly string[], found: readonly T[]): (T | null)[] {
  const byId = new Map(found.map((item) => [item.id, item]));
  return ids.map((id) => byId.get(id) ?? null);
}

type VideoPatch = VideoMetadataPatch & Partial<Pick<VideoRecord, 'status' | 'error'>>;

/** Catalog.updateVideo on any backend: read, patch, put the whole row back; null when there is no such video. */
export async function updateVideoRow(catalog: Pick<Catalog, 'getVideo' | 'putVideo'>, id: string, patch: VideoPatch): Promise<VideoRecord | null> {
  const current = await catalog.getVideo(id);
  if (!current) return null;
  const next = patchedVideo(current, patch);
  await catalog.putVideo(next);
  return next;
}

/** The video after a patch: only keys present change; an explicit null clears the field. */
function patchedVideo(current: VideoRecord, patch: VideoPatch): VideoRecord {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
  return { ...current, ...defined, updatedAt: new Date().toISOString() };
}

/**
 * replaceCues replaces the cues of `sources` only: a cue of another source would replace nothing
 * and, on a backend that versions each source, stay invisible. Refused on every backend.
 */
export function checkCueSources(sources: readonly CueRecord['source'][], cues: readonly CueRecord[]): void {
  const foreign = cues.find((c) => !sources.includes(c.source));
  if (foreign) throw new BadInputError(`cue ${foreign.id} has source ${foreign.source}, not one of the replaced sources`, { sources: [...sources] });
}
