// The intro/outro seam: compact audio/visual fingerprints of each episode's head and tail, and
// the skip markers (intro, outro) found by matching siblings of the same series, or set by an
// editor. An editor's marker is never overwritten by automatic matching.

export type SkipMarkerKind = 'INTRO' | 'OUTRO';
export type SkipMarkerSource = 'AUTO' | 'EDITOR';

/** Fingerprints of one window of an episode (its head or its tail). */
export interface FingerprintWindow {
  /** Media time of the first hash. */
  start: number;
  /** 64-bit DCT hashes of frames sampled every `visualStepSec`, as [hi, lo] 32-bit halves. */
  visual: Uint32Array;
  /** Per visual hash: 1 when the frame carries picture information (not flat/black). */
  visualInformative: Uint8Array;
  /** 32-bit energy-band hashes every `audioStepSec`; 0 where the audio is silent. */
  audio: Uint32Array;
}

export interface EpisodeFingerprint {
  videoId: string;
  durationSec: number;
  visualStepSec: number;
  audioStepSec: number;
  /** Algorithm version: fingerprints of two versions are never compared. */
  version: number;
  head: FingerprintWindow;
  tail: FingerprintWindow;
}

export interface SkipMarkerRecord {
  videoId: string;
  kind: SkipMarkerKind;
  start: number;
  end: number;
  /** 0..1; 1 for an editor's marker. */
  confidence: number;
  source: SkipMarkerSource;
  /** Sibling episodes the span was found in (empty for an editor's marker). */
  matchedVideoIds: string[];
  updatedAt: string;
}

export interface IntroRepository {
  putFingerprint(fingerprint: EpisodeFingerprint): Promise<void>;
  /** Fingerprints of every video whose series is `series` (the videos table decides membership). */
  getFingerprintsOfSeries(series: string): Promise<EpisodeFingerprint[]>;
  /**
   * Replaces the automatic markers of the given videos (absent = none found), leaving editors'
   * markers in place, in one transaction.
   */
  replaceAutoMarkers(videoIds: readonly string[], markers: readonly SkipMarkerRecord[]): Promise<void>;
  /** Sets an editor's marker (replacing any marker of that kind), or with null removes it. */
  putEditorMarker(videoId: string, kind: SkipMarkerKind, marker: SkipMarkerRecord | null): Promise<void>;
  /** Same order as `videoIds`; empty arrays where none. */
  getMarkers(videoIds: readonly string[]): Promise<SkipMarkerRecord[][]>;
  deleteVideo(videoId: string): Promise<void>;
}
