// The face/voice fusion rule of onlyWatch: w_face·f + w_voice·v ≥ θ on the pieces between span boundaries.
import { describe, expect, it } from 'vitest';
import { computeOnlyWatch, fusePresence, FUSION, type FusionRule } from '../../src/services/presence.js';
import type { AppearanceSpanRecord, SpanEvidence } from '../../src/store/appearances.js';

const span = (evidence: SpanEvidence, start: number, end: number, confidence: number): AppearanceSpanRecord => ({
  id: `${evidence}-${start}`, videoId: 'v', actorId: 'a', start, end, confidence, evidence, sourceIds: [], bestFaceId: evidence === 'FACE' ? `face-${start}` : null,
});
const options = (fusion: FusionRule) => ({ mode: 'ANY' as const, padSec: 0, mergeGapSec: 0, minSpanSec: 0, durationSec: 30, fusion });

describe('fusePresence', () => {
  const spans = [span('FACE', 0, 4, 0.9), span('VOICE', 3, 6, 0.7), span('FACE', 10, 12, 0.55)];

  it('cuts time at every boundary and labels each piece by the evidence that carried it', () => {
    const pieces = fusePresence(spans, { faceWeight: 1, voiceWeight: 1, threshold: 0.5 });
    expect(pieces.map((p) => [p.start, p.end, [...p.evidence].sort().join('+'), p.confidence])).toEqual([
      [0, 3, 'FACE', 0.9],
      [3, 4, 'FACE+VOICE', 0.9],
      [4, 6, 'VOICE', 0.7],
      [10, 12, 'FACE', 0.55],
    ]);
  });

  it('lets a weak voice count only together with a face when its weight is low', () => {
    const pieces = fusePresence(spans, { faceWeight: 1, voiceWeight: 0.6, threshold: 0.5 });
    // 0.6·0.7 = 0.42 < 0.5: voice alone (4–6) no longer passes; with the face it still adds.
    expect(pieces.map((p) => [p.start, p.end])).toEqual([[0, 3], [3, 4], [10, 12]]);
    const strict = fusePresence(spans, { faceWeight: 1, voiceWeight: 0.6, threshold: 0.6 });
    expect(strict.map((p) => [p.start, p.end])).toEqual([[0, 3], [3, 4]]);
  });

  it('with voice weight 0 is face only and never claims voice evidence', () => {
    const pieces = fusePresence(spans, { faceWeight: 1, voiceWeight: 0, threshold: 0.5 });
    expect(pieces.every((p) => p.evidence.size === 1 && p.evidence.has('FACE'))).toBe(true);
  });
});

describe('onlyWatch with the calibrated rule', () => {
  it('reports FACE, BOTH and VOICE spans and keeps the best face for the thumbnail', () => {
    const result = computeOnlyWatch([span('FACE', 0, 4, 0.9), span('VOICE', 3, 6, 0.99)], ['a'], { ...options(FUSION), mergeGapSec: 1 });
    expect(result.spans).toEqual([{ start: 0, end: 6, actors: ['a'], confidence: 0.99, evidence: 'BOTH', bestFaceId: 'face-0' }]);
    const voiceOnly = computeOnlyWatch([span('VOICE', 3, 6, 0.99)], ['a'], options(FUSION));
    expect(voiceOnly.spans.map((s) => s.evidence)).toEqual(['VOICE']);
  });
});
