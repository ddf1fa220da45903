// Record logic every Catalog backend shares, so the backends differ only in storage.
import type { VideoMetadataPatch, VideoRecord } from '../domain.js';

/** Same order as `ids`, null where missing. */
export function inOrder<T extends { id: string }>(ids: readonly string[], found: readonly T[]): (T | null)[] {
  const byId = new Map(found.map((item) => [item.id, item]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** The video after a patch: only keys present change; an explicit null clears the field. */
export function patchedVideo(current: VideoRecord, patch: VideoMetadataPatch & Partial<Pick<VideoRecord, 'status' | 'error'>>): VideoRecord {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
  return { ...current, ...defined, updatedAt: new Date().toISOString() };
}
