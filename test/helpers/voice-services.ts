// The voice and actor services on a real embedded store in `work`, with the shipped models and
// ffmpeg decoding: what the voice integration tests share. Media must lie in ../shared/data or `work`.
import path from 'node:path';
import { createLogger } from '../../src/logger.js';
import { extractAudioPcm } from '../../src/media/frames.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { loadFaceModels } from '../../src/models/faces/index.js';
import { loadVoiceModels, VOICE_SAMPLE_RATE } from '../../src/models/voice/index.js';
import { createActorService, type ActorService } from '../../src/services/actors.js';
import { createVoiceService, type VoiceService } from '../../src/services/voices.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { sharedDataDir } from './shared-data.js';

export interface VoiceServices {
  store: Store;
  voices: VoiceService;
  actors: ActorService;
}

export async function openVoiceServices(work: string): Promise<VoiceServices> {
  const store = await openEmbeddedStore(path.join(work, 'store'));
  const log = createLogger('silent');
  const config = { mediaRoots: [sharedDataDir, work] };
  const tools = resolveMediaTools({ ffmpegPath: null, ffprobePath: null });
  const voices = createVoiceService({
    store,
    config,
    log,
    models: () => loadVoiceModels({ modelDir: null }),
    decodeAudio: (file, signal) => extractAudioPcm(tools, file, { sampleRate: VOICE_SAMPLE_RATE, channels: 1, signal }),
  });
  const actors = createActorService({ store, config, log, models: () => loadFaceModels({ modelDir: null }), voices });
  return { store, voices, actors };
}
