// With the catalog on Elasticsearch, the embedded SQLite file still holds the relational
// repositories, and two of them lean on its `videos` table: intro/outro matching groups episodes
// by series with a join on it, and deleting a row there clears the video's ads tags and highlight
// signals (a trigger). So video rows are mirrored into the SQLite catalog: Elasticsearch is the
// catalog every read uses; the mirror only follows its video writes (after them, so a failed
// primary write leaves the mirror untouched).
import type { CueKind, CueRecord, Page, PageArgs, SegmentRecord, ShotRecord, VideoMetadataPatch, VideoRecord } from '../../domain.js';
import type { Catalog, VideoFilter } from '../interfaces.js';

export class VideoRowMirror implements Catalog {
  constructor(
    private readonly primary: Catalog,
    private readonly mirror: Pick<Catalog, 'putVideo' | 'deleteVideo'>,
  ) {}

  async putVideo(video: VideoRecord): Promise<void> {
    await this.primary.putVideo(video);
    await this.mirror.putVideo(video);
  }

  async updateVideo(id: string, patch: VideoMetadataPatch & Partial<Pick<VideoRecord, 'status' | 'error'>>): Promise<VideoRecord | null> {
    const updated = await this.primary.updateVideo(id, patch);
    // The whole row, so the mirror carries the same updatedAt and heals if it had missed a write.
    if (updated) await this.mirror.putVideo(updated);
    return updated;
  }

  async deleteVideo(id: string): Promise<boolean> {
    const deleted = await this.primary.deleteVideo(id);
    await this.mirror.deleteVideo(id);
    return deleted;
  }

  getVideo(id: string): Promise<VideoRecord | null> {
    return this.primary.getVideo(id);
  }
  getVideos(ids: readonly string[]): Promise<(VideoRecord | null)[]> {
    return this.primary.getVideos(ids);
  }
  findVideoByHash(contentHash: string): Promise<VideoRecord | null> {
    return this.primary.findVideoByHash(contentHash);
  }
  listVideos(filter: VideoFilter, page: PageArgs): Promise<Page<VideoRecord>> {
    return this.primary.listVideos(filter, page);
  }
  replaceStructure(videoId: string, shots: ShotRecord[], segments: SegmentRecord[]): Promise<void> {
    return this.primary.replaceStructure(videoId, shots, segments);
  }
  getShots(videoId: string): Promise<ShotRecord[]> {
    return this.primary.getShots(videoId);
  }
  getSegment(id: string): Promise<SegmentRecord | null> {
    return this.primary.getSegment(id);
  }
  getSegmentsByIds(ids: readonly string[]): Promise<(SegmentRecord | null)[]> {
    return this.primary.getSegmentsByIds(ids);
  }
  listSegments(videoId: string, page: PageArgs): Promise<Page<SegmentRecord>> {
    return this.primary.listSegments(videoId, page);
  }
  getSegmentsOfVideo(videoId: string): Promise<SegmentRecord[]> {
    return this.primary.getSegmentsOfVideo(videoId);
  }
  segmentAt(videoId: string, time: number): Promise<SegmentRecord | null> {
    return this.primary.segmentAt(videoId, time);
  }
  replaceCues(videoId: string, sources: CueRecord['source'][], cues: CueRecord[]): Promise<void> {
    return this.primary.replaceCues(videoId, sources, cues);
  }
  getCues(videoId: string, kinds?: CueKind[]): Promise<CueRecord[]> {
    return this.primary.getCues(videoId, kinds);
  }
  getCuesBySegments(segmentIds: readonly string[]): Promise<CueRecord[][]> {
    return this.primary.getCuesBySegments(segmentIds);
  }
  getCuesByIds(ids: readonly string[]): Promise<(CueRecord | null)[]> {
    return this.primary.getCuesByIds(ids);
  }
  putArtifact(videoId: string, stage: string, data: unknown): Promise<void> {
    return this.primary.putArtifact(videoId, stage, data);
  }
  getArtifact<T>(videoId: string, stage: string): Promise<T | null> {
    return this.primary.getArtifact<T>(videoId, stage);
  }
  deleteArtifacts(videoId: string): Promise<void> {
    return this.primary.deleteArtifacts(videoId);
  }
}
