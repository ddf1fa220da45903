import { describe, expect, it } from 'vitest';
import { splitBackgroundSpeakers, type BackgroundSpeaker } from '../../src/models/voice/background-split.js';
import { detPoints, equalErrorRate, ratesAt, thresholdForFar } from '../../src/models/voice/det.js';
import { decodeCohort, encodeCohort, loadShippedGmmEmbedder } from '../../src/models/voice/gmm-embedder.js';
import { confidenceOf, cohortScoring, ScoreNormaliser, thresholdFor, trialScore } from '../../src/models/voice/score-normalisation.js';
import split from '../../src/models/voice/background-split.json' with { type: 'json' };
import { detectionMetrics } from '../../src/eval/speakers-detection.js';

const unit = (...values: number[]): Float32Array => {
  const norm = Math.hypot(...values);
  return Float32Array.from(values, (v) => v / norm);
};

describe('detection error rates', () => {
  const genuine = [0.9, 0.8, 0.7, 0.3];
  const impostor = [0.1, 0.2, 0.25, 0.35, 0.4, 0.5, 0.05, 0.0, -0.1, 0.15];

  it('counts accepts at or above the threshold', () => {
    expect(ratesAt(genuine, impostor, 0.4)).toEqual({ far: 0.2, frr: 0.25 });
  });

  it('sets the threshold just above the impostor score that would be one accept too many', () => {
    const t = thresholdForFar(impostor, 0.1);
    expect(t).toBeGreaterThan(0.4);
    expect(t).toBeLessThan(0.41);
    expect(ratesAt(genuine, impostor, t).far).toBe(0.1);
    expect(ratesAt(genuine, impostor, thresholdForFar(impostor, 0)).far).toBe(0);
  });

  it('finds the equal error rate where FAR and FRR cross, and DET points at fixed FARs', () => {
    expect(equalErrorRate([1, 2, 3], [-1, -2, -3]).eer).toBe(0);
    const { eer } = equalErrorRate(genuine, impostor);
    expect(eer).toBeGreaterThan(0.1);
    expect(eer).toBeLessThan(0.3);
    const points = detPoints(genuine, impostor, [0.1, 0.5]);
    expect(points.map((p) => p.far)).toEqual([0.1, 0.5]);
    expect(points[0]!.frr).toBeGreaterThanOrEqual(points[1]!.frr);
  });
});

describe('cohort score normalisation', () => {
  // A "hub" voice close to every cohort member scores high raw cosines with anyone; S-norm removes that.
  const cohort = [unit(1, 0, 0, 0.2), unit(1, 0.1, 0, 0.1), unit(0.9, 0, 0.2, 0), unit(0, 0, 1, 0.1), unit(0.1, 1, 0, 0)];
  const normaliser = new ScoreNormaliser(cohort, 3);

  it('measures a vector against its top-N cohort cosines', () => {
    const stats = normaliser.stats(unit(1, 0, 0, 0));
    expect(stats.mean).toBeGreaterThan(0.9);
    expect(stats.std).toBeGreaterThan(0);
    expect(() => new ScoreNormaliser(cohort, 6)).toThrow(/topN/);
  });

  it('scores a trial in impostor standard deviations, symmetric in query and template', () => {
    const a = { mean: 0.2, std: 0.1 };
    const b = { mean: 0.4, std: 0.05 };
    expect(ScoreNormaliser.normalise(0.6, a, b)).toBeCloseTo(0.5 * (4 + 4));
    expect(trialScore(0.6, a, b)).toBe(trialScore(0.6, b, a));
    expect(trialScore(0.6, null, b)).toBe(0.6);
  });

  it('picks the threshold of the speech-duration band and puts confidence 0.5 at it', () => {
    const bands = [{ belowSec: 3, threshold: 2 }, { belowSec: 1e9, threshold: 1.5 }];
    expect(thresholdFor(bands, 1.2)).toBe(2);
    expect(thresholdFor(bands, 3)).toBe(1.5);
    const scoring = cohortScoring(normaliser, bands, 1);
    expect(confidenceOf(scoring, 2, 2)).toBeCloseTo(0.5);
    expect(confidenceOf(scoring, 2, 10)).toBeGreaterThan(0.6);
  });
});

describe('background split and the shipped model', () => {
  const speakers: BackgroundSpeaker[] = ['en_a/1', 'en_a/2', 'en_a/3', 'en_a/4', 'zh_b/1', 'zh_b/2', 'zh_b/3', 'zh_b/4'].map((id) => ({ id, files: [`${id}/x.wav`] }));

  it('deals every speaker to exactly one part, deterministically, about half for training', () => {
    const once = splitBackgroundSpeakers(speakers);
    expect(splitBackgroundSpeakers([...speakers].reverse())).toEqual(once);
    const ids = [...once.train, ...once.calibration, ...once.strangers].map((s) => s.id).sort();
    expect(ids).toEqual(speakers.map((s) => s.id).sort());
    expect(once.train).toHaveLength(4);
    expect(once.calibration).toHaveLength(2);
    expect(once.strangers).toHaveLength(2);
  });

  it('ships a model trained and calibrated on disjoint speakers, with the cohort of the train part', () => {
    const { train, calibration, strangers } = split.parts;
    expect(new Set([...train, ...calibration, ...strangers]).size).toBe(train.length + calibration.length + strangers.length);
    expect(split.trainingFiles.every((f) => train.some((s) => f.startsWith(`${s}/`)))).toBe(true);
    const embedder = loadShippedGmmEmbedder();
    expect(embedder.modelId).toMatch(/^gmm-ubm64-mfcc60-snorm-[0-9a-f]{12}$/);
    expect(embedder.scoring.normaliser?.cohortSize).toBe(train.length);
    expect(embedder.scoring.threshold(1.5)).toBeGreaterThan(0);
    const vectors = [unit(1, 2, 3), unit(-1, 0, 2)];
    expect(decodeCohort(encodeCohort(vectors), 3)).toEqual(vectors);
  });
});

describe('speakers eval detection metrics', () => {
  it('scores trials by their margin over the threshold and buckets accuracy by seconds of speech', () => {
    const metrics = detectionMetrics([
      { expected: 'a', answer: 'a', speechSec: 4, margins: [{ identity: 'a', margin: 2 }, { identity: 'b', margin: -1 }] },
      { expected: 'a', answer: null, speechSec: 1.5, margins: [{ identity: 'a', margin: -0.5 }, { identity: 'b', margin: -2 }] },
      { expected: null, answer: 'b', speechSec: 2.5, margins: [{ identity: 'b', margin: 0.3 }, { identity: 'a', margin: -3 }] },
      { expected: null, answer: null, speechSec: 0, margins: [] },
    ]);
    expect(metrics.falseAcceptRate).toBe(0.5);
    expect(metrics.trials).toMatchObject({ genuine: 2, impostor: 4, farAtThreshold: 0.25, frrAtThreshold: 0.5 });
    expect(metrics.bySpeechSec).toEqual({
      '0-1s': { known: 0, knownAccuracy: null, unknown: 1, falseAccepts: 0 },
      '1-2s': { known: 1, knownAccuracy: 0, unknown: 0, falseAccepts: 0 },
      '2-3s': { known: 0, knownAccuracy: null, unknown: 1, falseAccepts: 1 },
      '3-5s': { known: 1, knownAccuracy: 1, unknown: 0, falseAccepts: 0 },
    });
  });
});
