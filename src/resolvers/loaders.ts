// Per-request DataLoaders for every per-item relation (Segment.video, Segment.cues,
// IndexingJob.video, …): a page of N items costs one batched read, not N.
import DataLoader from 'dataloader';
import type { CueRecord, SegmentRecord, VideoRecord } from '../domain.js';
import type { Services } from '../services/index.js';

export interface Loaders {
  video: DataLoader<string, VideoRecord | null>;
  segment: DataLoader<string, SegmentRecord | null>;
  cuesOfSegment: DataLoader<string, CueRecord[]>;
}

export function createLoaders(services: Services): Loaders {
  return {
    video: new DataLoader((ids) => services.videos.getMany(ids)),
    segment: new DataLoader((ids) => services.videos.segmentsByIds(ids)),
    cuesOfSegment: new DataLoader((ids) => services.videos.cuesBySegments(ids)),
  };
}
