// The visual-risk rule: frame evidence behind the skin gate, two frames agreeing or one far above
// the line, the common risk scale, the noise floor, and the skin share outside faces.
import { describe, expect, it } from 'vitest';
import type { SegmentRecord } from '../../src/domain.js';
import { FLAG_RISK, frameEvidence, LABEL_LINE, needsSkinShare, riskOf, RISK_FLOOR, segmentScore, SINGLE_FRAME, SKIN_GATE, visualRisks, type ScoredFrame } from '../../src/indexers/nsfw-risk.js';
import type { NsfwScores } from '../../src/models/nsfw/index.js';
import { headRegion, isSkin, skinOutsideFaces } from '../../src/models/nsfw/skin.js';

const neutral: NsfwScores = { Drawing: 0.02, Hentai: 0.01, Neutral: 0.9, Porn: 0.02, Sexy: 0.05 };
const segment = (index: number, start: number, end: number): SegmentRecord => ({ id: `v:seg:${index}`, videoId: 'v', index, shotIndex: index, start, end, keyframeTime: start });
const frame = (time: number, scores: Partial<NsfwScores>, skinOutsideFaces: number | null = 1): ScoredFrame => ({ time, scores: { ...neutral, ...scores }, skinOutsideFaces });

describe('frame evidence', () => {
  it('gates Porn and Sexy by skin outside faces, linearly between the gate ends', () => {
    expect(frameEvidence(frame(0, { Porn: 0.8 }, 0), 'PORN')).toBe(0);
    expect(frameEvidence(frame(0, { Porn: 0.8 }, SKIN_GATE.from), 'PORN')).toBe(0);
    expect(frameEvidence(frame(0, { Porn: 0.8 }, (SKIN_GATE.from + SKIN_GATE.to) / 2), 'PORN')).toBeCloseTo(0.4, 6);
    expect(frameEvidence(frame(0, { Porn: 0.8 }, SKIN_GATE.to), 'PORN')).toBeCloseTo(0.8, 6);
    expect(frameEvidence(frame(0, { Sexy: 0.9 }, 0), 'SEXY')).toBe(0);
  });

  it('leaves Hentai (drawings) ungated, and probabilities below the floor need no skin share', () => {
    expect(frameEvidence(frame(0, { Hentai: 0.7 }, 0), 'HENTAI')).toBe(0.7);
    expect(needsSkinShare({ ...neutral, Porn: 0.05, Sexy: 0.05 })).toBe(false);
    expect(needsSkinShare({ ...neutral, Porn: 0.3 })).toBe(true);
    expect(frameEvidence(frame(0, { Porn: 0.05 }, null), 'PORN')).toBe(0.05);
  });
});

describe('segment score and risk', () => {
  it('needs two frames to agree unless one is far above the line', () => {
    // One strong frame (a benign audience shot at 0.71): capped at the line, not over it.
    expect(segmentScore('PORN', [0.71, 0.1])).toBe(LABEL_LINE.PORN);
    expect(segmentScore('PORN', [0.71, 0.65])).toBe(0.65);
    expect(segmentScore('PORN', [SINGLE_FRAME.PORN, 0])).toBe(SINGLE_FRAME.PORN);
    expect(segmentScore('PORN', [])).toBe(0);
  });

  it('puts every label’s line at the same risk, 0 at 0 and 1 at 1', () => {
    for (const label of ['PORN', 'HENTAI', 'SEXY'] as const) {
      expect(riskOf(label, LABEL_LINE[label])).toBe(FLAG_RISK);
      expect(riskOf(label, 0)).toBe(0);
      expect(riskOf(label, 1)).toBe(1);
    }
    expect(riskOf('SEXY', 0.9)).toBeCloseTo(0.75, 3);
  });

  it('grades each segment: one spike stays unflagged, agreement flags, neutral frames store nothing', () => {
    const frames = [
      frame(0.5, {}),
      frame(1.5, {}),
      frame(2.5, { Porn: 0.71 }),
      frame(3.5, { Porn: 0.1 }),
      frame(4.5, { Porn: 0.7 }),
      frame(5.5, { Porn: 0.8 }),
    ];
    const risks = visualRisks('v', [segment(0, 0, 2), segment(1, 2, 4), segment(2, 4, 6)], frames, 'm');
    expect(risks.map((r) => [r.segmentId, r.label, r.flagged])).toEqual([
      ['v:seg:1', 'PORN', false],
      ['v:seg:2', 'PORN', true],
    ]);
    expect(risks[0]!.risk).toBe(FLAG_RISK);
    expect(risks[1]).toMatchObject({ score: 0.7, risk: riskOf('PORN', 0.7), evidenceTimes: [5.5, 4.5] });
    expect(risks.every((r) => r.risk >= RISK_FLOOR)).toBe(true);
  });

  it('does not flag a talking-head close-up however often nsfwjs says Porn', () => {
    const closeUp = [0.5, 1.5, 2.5, 3.5].map((t) => frame(t, { Porn: 0.78 }, 0.02));
    expect(visualRisks('v', [segment(0, 0, 4)], closeUp, 'm')).toEqual([]);
  });
});

describe('skin outside faces', () => {
  const image = (width: number, height: number, paint: (x: number, y: number) => [number, number, number]) => {
    const data = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(paint(x, y), (y * width + x) * 3);
    return { data, width, height, channels: 3 as const };
  };
  const SKIN: [number, number, number] = [224, 172, 150];
  const GREY: [number, number, number] = [120, 120, 120];

  it('recognises skin tones, not grey or blue', () => {
    expect(isSkin(...SKIN)).toBe(true);
    expect(isSkin(141, 85, 36)).toBe(true);
    expect(isSkin(...GREY)).toBe(false);
    expect(isSkin(40, 80, 200)).toBe(false);
  });

  it('does not count skin in a face’s head region (face, hair line, neck)', () => {
    const face = { x: 40, y: 20, width: 20, height: 20 };
    expect(headRegion(face)).toEqual({ x: 35, y: 15, width: 30, height: 45 });
    // Skin only inside the head region: nothing outside.
    const head = image(100, 100, (x, y) => (x >= 35 && x < 65 && y >= 15 && y < 60 ? SKIN : GREY));
    expect(skinOutsideFaces(head, [face])).toBe(0);
    expect(skinOutsideFaces(head, [])).toBeCloseTo((30 * 45) / 10_000, 6);
    // The lower half bare as well: its skin outside the head counts.
    const body = image(100, 100, (x, y) => (y >= 50 || (x >= 35 && x < 65 && y >= 15 && y < 60) ? SKIN : GREY));
    expect(skinOutsideFaces(body, [face])).toBeCloseTo((5000 - 30 * 10) / 10_000, 6);
  });
});
