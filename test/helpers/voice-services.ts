// The voice and actor services on a real embedded store in `work`, with the shipped models and
// ffmpeg decoding: what the voice integration tests share. Media must lie in ../shared/data or `work`.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
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

/**
 * The services for one test file: a fresh work folder at once (tests may write media into it), the
 * services opened before the file's tests, the store closed and the folder removed after them.
 */
export function voiceServicesPerFile(prefix: string): VoiceServices & { work: string } {
  const work = mkdtempSync(path.join(os.tmpdir(), prefix));
  // Filled in by beforeAll: tests read the fields only once they run.
  const services = { work } as VoiceServices & { work: string };
  beforeAll(async () => {
    Object.assign(services, await openVoiceServices(work));
  });
  afterAll(async () => {
    if ('store' in services) await services.store.close();
    rmSync(work, { recursive: true, force: true });
  });
  return services;
}
