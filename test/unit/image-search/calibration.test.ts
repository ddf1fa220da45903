import { describe, expect, it } from 'vitest';
import { calibratedSimilarity, calibratedTimeConfidence } from '../../../src/services/image-search/calibration.js';

describe('calibrated similarity (right video)', () => {
  it('rises with inliers, falls with a rival video’s inliers, and stays in 0..1', () => {
    expect(calibratedSimilarity(60, 0)).toBeGreaterThan(calibratedSimilarity(15, 0));
    expect(calibratedSimilarity(60, 40)).toBeLessThan(calibratedSimilarity(60, 5));
    // Under MIN_INLIERS there is no geometric evidence: a low constant.
    expect(calibratedSimilarity(0, 0)).toBeLessThan(0.05);
    expect(calibratedSimilarity(9, 0)).toBe(calibratedSimilarity(0, 0));
    expect(calibratedSimilarity(13, 13)).toBeLessThan(calibratedSimilarity(13, 0));
    expect(calibratedSimilarity(1e6, 0)).toBeLessThanOrEqual(1);
    expect(calibratedSimilarity(0, 1e6)).toBeGreaterThanOrEqual(0);
  });

  it('is high with many inliers over a weak rival, and lower when the rival is about as strong', () => {
    expect(calibratedSimilarity(150, 8)).toBeGreaterThan(0.9);
    expect(calibratedSimilarity(14, 11)).toBeLessThan(0.9);
    expect(calibratedSimilarity(150, 120)).toBeLessThan(calibratedSimilarity(150, 30));
  });
});

describe('calibrated time confidence (right moment)', () => {
  it('never exceeds the similarity, grows with the margin; a stretch longer than ±1 s around its middle is discounted by its share within', () => {
    const sure = calibratedTimeConfidence(0.95, { margin: 0.1, from: 3, to: 3 });
    expect(sure).toBeLessThanOrEqual(0.95);
    expect(sure).toBeGreaterThan(calibratedTimeConfidence(0.95, { margin: 0.001, from: 3, to: 3 }));
    expect(calibratedTimeConfidence(0.95, { margin: 0.01, from: 0, to: 6 })).toBeLessThan(calibratedTimeConfidence(0.95, { margin: 0.01, from: 3, to: 3.5 }));
    // A 6 s stretch: its middle is within ±1 s of at most a third of it.
    expect(calibratedTimeConfidence(0.95, { margin: 0.01, from: 0, to: 6 })).toBeLessThanOrEqual(0.95 / 3);
    // Fitted on the fit half: a few indistinguishable frames (≤ 2 s) are no reason for doubt.
    expect(calibratedTimeConfidence(0.95, { margin: 0.01, from: 3, to: 4 })).toBeGreaterThan(calibratedTimeConfidence(0.95, { margin: 0.01, from: 3, to: 3 }));
    expect(calibratedTimeConfidence(0.95, null)).toBeLessThan(0.95);
    expect(calibratedTimeConfidence(0, { margin: 1, from: 1, to: 1 })).toBe(0);
  });
});
