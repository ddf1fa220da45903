import { describe, expect, it } from 'vitest';
import { cmvn, frameCount, FRAME_SHIFT, logMelFilterbank, mfccWithDeltas, row } from '../../src/models/voice/features.js';
import { DiagonalGmm, trainGmm } from '../../src/models/voice/gmm.js';
import { GmmSupervectorEmbedder, loadShippedGmmEmbedder, MIN_SPEECH_FRAMES } from '../../src/models/voice/gmm-embedder.js';
import { VOICE_SAMPLE_RATE } from '../../src/models/voice/types.js';
import { rawCosineScoring } from '../../src/models/voice/score-normalisation.js';

function tone(hz: number, seconds: number, amplitude = 0.3): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * VOICE_SAMPLE_RATE) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / VOICE_SAMPLE_RATE));
}

/** Deterministic noise with a spectral tilt set by `smoothing` (a crude stand-in for a voice timbre). */
function colouredNoise(seconds: number, smoothing: number, seed: number): Float32Array {
  let state = seed;
  let previous = 0;
  return Float32Array.from({ length: Math.round(seconds * VOICE_SAMPLE_RATE) }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    previous = smoothing * previous + (1 - smoothing) * (state / 2147483648 - 0.5);
    return previous;
  });
}

describe('speech features', () => {
  it('frames 25 ms windows every 10 ms', () => {
    expect(frameCount(399)).toBe(0);
    expect(frameCount(400)).toBe(1);
    expect(frameCount(VOICE_SAMPLE_RATE)).toBe(1 + Math.floor((VOICE_SAMPLE_RATE - 400) / FRAME_SHIFT));
  });

  it('puts a tone’s energy in the mel band that holds its frequency', () => {
    const low = logMelFilterbank(tone(300, 0.5), 40).fbank;
    const high = logMelFilterbank(tone(3000, 0.5), 40).fbank;
    const peak = (m: typeof low): number => {
      const r = row(m, 10);
      return r.indexOf(Math.max(...r));
    };
    expect(peak(low)).toBeLessThan(peak(high));
    expect(peak(high) - peak(low)).toBeGreaterThan(10);
  });

  it('MFCC+Δ+ΔΔ are 60 columns with zero mean and unit variance per column', () => {
    const m = mfccWithDeltas(colouredNoise(2, 0.5, 3));
    expect(m.dim).toBe(60);
    expect(m.frames).toBe(frameCount(2 * VOICE_SAMPLE_RATE));
    for (const d of [0, 5, 25, 59]) {
      let sum = 0;
      let sq = 0;
      for (let t = 0; t < m.frames; t++) {
        sum += m.data[t * m.dim + d]!;
        sq += m.data[t * m.dim + d]! ** 2;
      }
      expect(Math.abs(sum / m.frames)).toBeLessThan(1e-4);
      expect(sq / m.frames).toBeCloseTo(1, 3);
    }
  });

  it('CMVN leaves a single frame alone instead of dividing by zero', () => {
    const m = { data: Float32Array.from([1, 2, 3]), frames: 1, dim: 3 };
    expect(Array.from(cmvn(m).data)).toEqual([1, 2, 3]);
  });
});

describe('diagonal GMM', () => {
  const clusters = (n: number): Float32Array => {
    const data = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const centre = i % 2 === 0 ? -5 : 5;
      data[i * 2] = centre + Math.sin(i * 12.9898) * 0.5;
      data[i * 2 + 1] = centre + Math.cos(i * 78.233) * 0.5;
    }
    return data;
  };

  it('EM finds two separated clusters with equal weights', () => {
    const gmm = trainGmm({ data: clusters(400), frames: 400, dim: 2 }, { components: 2, iterations: 5, seed: 1 });
    const centres = [gmm.means[0]!, gmm.means[2]!].sort((a, b) => a - b);
    expect(centres[0]).toBeCloseTo(-5, 1);
    expect(centres[1]).toBeCloseTo(5, 1);
    expect(gmm.weights[0]).toBeCloseTo(0.5, 2);
    const gamma = new Float64Array(2);
    gmm.posteriors([5, 5], gamma);
    expect(Math.max(...gamma)).toBeGreaterThan(0.999);
  });

  it('MAP adaptation moves only the components that saw data, by n/(n+r)', () => {
    const gmm = new DiagonalGmm({ weights: [0.5, 0.5], means: [-5, -5, 5, 5], variances: [1, 1, 1, 1], dim: 2 });
    const frames = 16;
    const data = new Float32Array(frames * 2).fill(6);
    const { means, counts } = gmm.adaptMeans({ data, frames, dim: 2 }, 16);
    expect(counts[1]).toBeCloseTo(16, 6);
    expect(means[2]).toBeCloseTo(5.5, 6);
    expect(means[0]).toBe(-5);
  });

  it('refuses to train on fewer frames than the model can use', () => {
    expect(() => trainGmm({ data: new Float32Array(20), frames: 10, dim: 2 }, { components: 4, iterations: 1, seed: 1 })).toThrow(/too few/);
  });
});

describe('GMM supervector embedder', () => {
  it('ships a 64-component UBM and names the model after its parameters', () => {
    const embedder = loadShippedGmmEmbedder();
    expect(embedder.dim).toBe(64 * 60);
    expect(embedder.modelId).toMatch(/^gmm-ubm64-mfcc60-snorm-[0-9a-f]{12}$/);
  });

  it('returns null for less than a second of audio and a unit vector otherwise', async () => {
    const embedder = loadShippedGmmEmbedder();
    expect(await embedder.embed(colouredNoise(((MIN_SPEECH_FRAMES - 5) * FRAME_SHIFT) / VOICE_SAMPLE_RATE, 0.5, 1))).toBeNull();
    const vector = (await embedder.embed(colouredNoise(2, 0.5, 1)))!;
    expect(vector).toHaveLength(embedder.dim);
    expect(vector.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 5);
  });

  it('scores two takes of the same timbre above two different timbres', async () => {
    const gmm = trainGmm(mfccWithDeltas(new Float32Array([...colouredNoise(4, 0.2, 1), ...colouredNoise(4, 0.9, 2)])), { components: 4, iterations: 5, seed: 3 });
    const embedder = new GmmSupervectorEmbedder(gmm, { melFilters: 40, cepstra: 19 }, 'test', rawCosineScoring(0, 1));
    const a1 = (await embedder.embed(colouredNoise(3, 0.2, 11)))!;
    const a2 = (await embedder.embed(colouredNoise(3, 0.2, 12)))!;
    const b = (await embedder.embed(colouredNoise(3, 0.9, 13)))!;
    const cosine = (x: Float32Array, y: Float32Array): number => x.reduce((s, v, i) => s + v * y[i]!, 0);
    expect(cosine(a1, a2)).toBeGreaterThan(cosine(a1, b));
  });
});
