import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadVoiceModels } from '../../src/models/voice/index.js';
import { FBANK_BINS, fbankTensor, loadUserSpeakerEmbedder, USER_SPEAKER_EMBEDDER_CONFIG, USER_SPEAKER_EMBEDDER_FILE } from '../../src/models/voice/onnx-embedder.js';
import { VOICE_SAMPLE_RATE } from '../../src/models/voice/types.js';
import { buildOnnxModel, seededWeights } from '../helpers/tiny-onnx.js';

const DIM = 16;
/** fbank [1, frames, 80] → mean over time → MatMul [80, 16] → embedding [1, 16]: a variable-length speaker net in miniature. */
function tinySpeakerModel(seed: number): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'feats', shape: [1, 'frames', FBANK_BINS] }],
    outputs: [{ name: 'embs', shape: [1, DIM] }],
    initializers: [{ name: 'W', dims: [FBANK_BINS, DIM], values: seededWeights(FBANK_BINS * DIM, seed) }],
    nodes: [
      // ReduceSumSquare over time keeps the energy per band (a mean of CMN'd features would be 0).
      { opType: 'ReduceSumSquare', inputs: ['feats'], outputs: ['pooled'], attributes: { axes: [1], keepdims: 0 } },
      { opType: 'MatMul', inputs: ['pooled', 'W'], outputs: ['embs'] },
    ],
  });
}

const dirs: string[] = [];
function modelDir(seed: number, config?: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vidsearch-voice-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, USER_SPEAKER_EMBEDDER_FILE), tinySpeakerModel(seed));
  if (config !== undefined) writeFileSync(path.join(dir, USER_SPEAKER_EMBEDDER_CONFIG), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const chirp = (seconds: number, hz: number): Float32Array =>
  Float32Array.from({ length: Math.round(seconds * VOICE_SAMPLE_RATE) }, (_, i) => 0.2 * Math.sin((2 * Math.PI * hz * i) / VOICE_SAMPLE_RATE) * (1 + Math.sin(i / 800)));

describe('user ONNX speaker embedder', () => {
  it('feeds mean-normalised 80-bin fbank frames', () => {
    const tensor = fbankTensor(chirp(1, 300));
    expect(tensor.dims).toEqual([1, 98, FBANK_BINS]);
    const data = tensor.data as Float32Array;
    let sum = 0;
    for (let t = 0; t < 98; t++) sum += data[t * FBANK_BINS + 7]!;
    expect(Math.abs(sum / 98)).toBeLessThan(1e-3);
  });

  it('is absent without a model dir or file, so the shipped GMM embedder is used', async () => {
    expect(await loadUserSpeakerEmbedder(null)).toBeNull();
    expect(await loadUserSpeakerEmbedder(os.tmpdir())).toBeNull();
    const models = await loadVoiceModels({ modelDir: null });
    expect(models.embedder.modelId).toMatch(/^gmm-ubm/);
  });

  it('reads the output size from a probe run, names the model by its hash, and embeds to a unit vector', async () => {
    const embedder = (await loadUserSpeakerEmbedder(modelDir(1)))!;
    expect(embedder.dim).toBe(DIM);
    expect(embedder.modelId).toMatch(/^user-speaker:[0-9a-f]{16}$/);
    expect(embedder.scoring.threshold(2)).toBe(0.5);
    expect(embedder.scoring.normaliser).toBeNull();
    const a = (await embedder.embed(chirp(2, 300)))!;
    expect(a).toHaveLength(DIM);
    expect(a.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 5);
    expect(await embedder.embed(chirp(0.5, 300))).toBeNull();
    const other = (await loadUserSpeakerEmbedder(modelDir(2)))!;
    expect(other.modelId).not.toBe(embedder.modelId);
    const models = await loadVoiceModels({ modelDir: dirs[0]! });
    expect(models.embedder.modelId).toBe(embedder.modelId);
  });

  it('takes the threshold from speaker-embedder.json and rejects a bad one', async () => {
    expect((await loadUserSpeakerEmbedder(modelDir(3, { threshold: 0.31 })))!.scoring.threshold(10)).toBe(0.31);
    await expect(loadUserSpeakerEmbedder(modelDir(3, { threshold: 7 }))).rejects.toThrow(/threshold/);
    await expect(loadUserSpeakerEmbedder(modelDir(3, '{oops'))).rejects.toThrow(/not valid JSON/);
  });
});
