// In-memory fakes of the technical-cues and intro/outro repositories, for unit tests that use
// the fake store (src/store/technical.ts, src/store/intro.ts define the contracts).
import type { VideoRecord } from '../../src/domain.js';
import type { EpisodeFingerprint, IntroRepository, SkipMarkerKind, SkipMarkerRecord } from '../../src/store/intro.js';
import type { ShotQualityRecord, TechnicalCueRecord, TechnicalRepository, VisualFlagRecord } from '../../src/store/technical.js';

export class FakeTechnicalRepository implements TechnicalRepository {
  readonly cues = new Map<string, TechnicalCueRecord[]>();
  readonly quality = new Map<string, ShotQualityRecord[]>();
  readonly flags = new Map<string, VisualFlagRecord[]>();

  async replaceCues(videoId: string, cues: readonly TechnicalCueRecord[]): Promise<void> {
    this.cues.set(videoId, [...cues]);
  }
  async getCues(videoId: string): Promise<TechnicalCueRecord[]> {
    return [...(this.cues.get(videoId) ?? [])];
  }
  async replaceShotQuality(videoId: string, rows: readonly ShotQualityRecord[]): Promise<void> {
    this.quality.set(videoId, [...rows]);
  }
  async getShotQuality(videoId: string): Promise<ShotQualityRecord[]> {
    return [...(this.quality.get(videoId) ?? [])];
  }
  async replaceVisualFlags(videoId: string, flags: readonly VisualFlagRecord[]): Promise<void> {
    this.flags.set(videoId, [...flags]);
  }
  async getVisualFlags(videoId: string): Promise<VisualFlagRecord[]> {
    return [...(this.flags.get(videoId) ?? [])];
  }
  async deleteVideo(videoId: string): Promise<void> {
    for (const rows of [this.cues, this.quality, this.flags]) rows.delete(videoId);
  }
}

export class FakeIntroRepository implements IntroRepository {
  readonly fingerprints = new Map<string, EpisodeFingerprint>();
  readonly markers = new Map<string, SkipMarkerRecord[]>();

  /** `videos` decides series membership, as the videos table does in the real store. */
  constructor(private readonly videos: ReadonlyMap<string, VideoRecord>) {}

  async putFingerprint(fingerprint: EpisodeFingerprint): Promise<void> {
    this.fingerprints.set(fingerprint.videoId, fingerprint);
  }
  async getFingerprintsOfSeries(series: string): Promise<EpisodeFingerprint[]> {
    return [...this.fingerprints.values()].filter((f) => this.videos.get(f.videoId)?.series === series);
  }
  async replaceAutoMarkers(videoIds: readonly string[], markers: readonly SkipMarkerRecord[]): Promise<void> {
    for (const videoId of videoIds) {
      const editors = (this.markers.get(videoId) ?? []).filter((m) => m.source === 'EDITOR');
      this.markers.set(videoId, [...editors, ...markers.filter((m) => m.videoId === videoId)]);
    }
  }
  async putEditorMarker(videoId: string, kind: SkipMarkerKind, marker: SkipMarkerRecord | null): Promise<void> {
    const others = (this.markers.get(videoId) ?? []).filter((m) => !(m.source === 'EDITOR' && m.kind === kind));
    this.markers.set(videoId, marker ? [...others, marker] : others);
  }
  async getMarkers(videoIds: readonly string[]): Promise<SkipMarkerRecord[][]> {
    return videoIds.map((id) => [...(this.markers.get(id) ?? [])]);
  }
  async deleteVideo(videoId: string): Promise<void> {
    this.fingerprints.delete(videoId);
    this.markers.delete(videoId);
  }
}
