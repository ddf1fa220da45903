// In-memory fakes of the technical-cues and intro/outro repositories, for unit tests that use
// the fake store (src/store/technical.ts, src/store/intro.ts define the contracts; the shared
// suite test/store/conformance-media.ts runs against these fakes too).
import type { VideoRecord } from '../../src/domain.js';
import type { EpisodeFingerprint, IntroRepository, SkipMarkerKind, SkipMarkerRecord } from '../../src/store/intro.js';
import type { ShotQualityRecord, TechnicalCueRecord, TechnicalRepository, VisualFlagRecord } from '../../src/store/technical.js';

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byNumber = (a: number | null, b: number | null): number => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a - b);

/** Later records replace earlier ones with the same key, as the tables' primary keys do. */
function lastPerKey<T>(records: readonly T[], keyOf: (record: T) => string | number): T[] {
  return [...new Map(records.map((record) => [keyOf(record), record])).values()];
}

export class FakeTechnicalRepository implements TechnicalRepository {
  readonly cues = new Map<string, TechnicalCueRecord[]>();
  readonly quality = new Map<string, ShotQualityRecord[]>();
  readonly flags = new Map<string, VisualFlagRecord[]>();

  async replaceCues(videoId: string, cues: readonly TechnicalCueRecord[]): Promise<void> {
    this.cues.set(videoId, lastPerKey(cues, (c) => c.id).map((c) => ({ ...c, videoId })));
  }
  async getCues(videoId: string): Promise<TechnicalCueRecord[]> {
    return [...(this.cues.get(videoId) ?? [])].sort((a, b) => a.start - b.start || byText(a.type, b.type));
  }
  async replaceShotQuality(videoId: string, rows: readonly ShotQualityRecord[]): Promise<void> {
    this.quality.set(videoId, lastPerKey(rows, (q) => q.shotIndex).map((q) => ({ ...q, videoId })));
  }
  async getShotQuality(videoId: string): Promise<ShotQualityRecord[]> {
    return [...(this.quality.get(videoId) ?? [])].sort((a, b) => a.shotIndex - b.shotIndex);
  }
  async replaceVisualFlags(videoId: string, flags: readonly VisualFlagRecord[]): Promise<void> {
    this.flags.set(videoId, lastPerKey(flags, (f) => f.id).map((f) => ({ ...f, videoId })));
  }
  async getVisualFlags(videoId: string): Promise<VisualFlagRecord[]> {
    return [...(this.flags.get(videoId) ?? [])].sort((a, b) => a.start - b.start || byText(a.label, b.label));
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
    const episodes = [...this.videos.values()]
      .filter((v) => v.series === series)
      .sort((a, b) => byNumber(a.season, b.season) || byNumber(a.episode, b.episode) || byText(a.createdAt, b.createdAt) || byText(a.id, b.id));
    return episodes.flatMap((v) => this.fingerprints.get(v.id) ?? []);
  }
  async replaceAutoMarkers(videoIds: readonly string[], markers: readonly SkipMarkerRecord[]): Promise<void> {
    for (const videoId of videoIds) {
      const editors = (this.markers.get(videoId) ?? []).filter((m) => m.source === 'EDITOR');
      const autos = lastPerKey(markers.filter((m) => m.videoId === videoId), (m) => m.kind).map((m) => ({ ...m, source: 'AUTO' as const }));
      this.markers.set(videoId, [...editors, ...autos]);
    }
  }
  async putEditorMarker(videoId: string, kind: SkipMarkerKind, marker: SkipMarkerRecord | null): Promise<void> {
    const others = (this.markers.get(videoId) ?? []).filter((m) => !(m.source === 'EDITOR' && m.kind === kind));
    const stored = marker ? [{ ...marker, videoId, kind, source: 'EDITOR' as const, matchedVideoIds: [] }] : [];
    this.markers.set(videoId, [...others, ...stored]);
  }
  /** Per video: by kind, the editor's marker before the automatic one. */
  async getMarkers(videoIds: readonly string[]): Promise<SkipMarkerRecord[][]> {
    return videoIds.map((id) => [...(this.markers.get(id) ?? [])].sort((a, b) => byText(a.kind, b.kind) || byText(b.source, a.source)));
  }
  async deleteVideo(videoId: string): Promise<void> {
    this.fingerprints.delete(videoId);
    this.markers.delete(videoId);
  }
}
