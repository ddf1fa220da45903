// The voice models one process uses: Silero VAD, and the user's ONNX speaker embedder from the
// model dir when there is one, else the shipped GMM-UBM embedder. Loaded once per model dir.
import { loadShippedGmmEmbedder } from './gmm-embedder.js';
import { loadUserSpeakerEmbedder } from './onnx-embedder.js';
import { loadSileroVad } from './silero-vad.js';
import type { SpeakerEmbedder, Vad } from './types.js';

export interface VoiceModels {
  vad: Vad;
  embedder: SpeakerEmbedder;
}

const loaded = new Map<string, Promise<VoiceModels>>();

export function loadVoiceModels(opts: { modelDir: string | null }): Promise<VoiceModels> {
  const key = opts.modelDir ?? '';
  let models = loaded.get(key);
  if (!models) {
    models = (async () => ({
      vad: await loadSileroVad(),
      embedder: (await loadUserSpeakerEmbedder(opts.modelDir)) ?? loadShippedGmmEmbedder(),
    }))();
    loaded.set(key, models);
    models.catch(() => loaded.delete(key));
  }
  return models;
}

export type { SpeakerEmbedder, SpeechSegment, Vad, VadOptions } from './types.js';
export { VOICE_SAMPLE_RATE } from './types.js';
