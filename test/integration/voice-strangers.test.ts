// Voices nobody enrolled: test/fixtures/speakers-strangers.json (speakers.json's gallery and known
// queries, those queries cut to 2 and 3.5 s, and the 13 held-out background speakers of
// src/models/voice/background-split.json as unknown queries) through the speakers eval task.
// The held-out speakers trained nothing and set no threshold (src/models/voice/README.md).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { speakersTask } from '../../src/eval/speakers.js';
import type { ActorService } from '../../src/services/actors.js';
import type { VoiceService } from '../../src/services/voices.js';
import type { Store } from '../../src/store/interfaces.js';
import { repoRoot, sharedData } from '../helpers/shared-data.js';
import { openVoiceServices } from '../helpers/voice-services.js';

const manifestFile = path.join(repoRoot, 'test/fixtures/speakers-strangers.json');
const hasData = sharedData('speech_background/speakers.tsv') !== null && sharedData('speakers.json') !== null;
const work = mkdtempSync(path.join(os.tmpdir(), 'vidsearch-voice-strangers-'));
let store: Store;
let actors: ActorService;
let voices: VoiceService;

beforeAll(async () => {
  ({ store, voices, actors } = await openVoiceServices(work));
});
afterAll(async () => {
  await store?.close();
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!hasData)('never-enrolled voices (stranger manifest)', () => {
  it('accepts at most 5 % of the strangers and still names ≥ 90 % of the known queries, short ones included', async () => {
    const metrics = await speakersTask.run(JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>, {
      app: { services: { actors, voices } } as unknown as App,
      resolve: (rel) => path.resolve(path.dirname(manifestFile), rel),
      options: {},
      progress: () => {},
      indexVideos: async () => new Map(),
    });
    console.log('stranger manifest', JSON.stringify(metrics));
    expect(metrics.falseAcceptRate as number).toBeLessThanOrEqual(0.05);
    expect(metrics.knownAccuracy as number).toBeGreaterThanOrEqual(0.9);
    const bands = metrics.bySpeechSec as Record<string, { known: number; knownAccuracy: number | null }>;
    expect(bands['1-2s']!.known).toBeGreaterThan(10);
    expect(bands['1-2s']!.knownAccuracy as number).toBeGreaterThanOrEqual(0.8);
  }, 600_000);
});
