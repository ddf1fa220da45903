// Voices nobody enrolled: test/fixtures/speakers-strangers.json (speakers.json's gallery and known
// queries, those queries cut to 2 and 3.5 s, and the 13 held-out background speakers of
// src/models/voice/background-split.json as unknown queries) through the speakers eval task.
// The held-out speakers trained nothing and set no threshold (src/models/voice/README.md).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { speakersTask } from '../../src/eval/speakers.js';
import { repoRoot, sharedData } from '../helpers/shared-data.js';
import { voiceServicesPerFile } from '../helpers/voice-services.js';

const manifestFile = path.join(repoRoot, 'test/fixtures/speakers-strangers.json');
const hasData = sharedData('speech_background/speakers.tsv') !== null && sharedData('speakers.json') !== null;
const voice = voiceServicesPerFile('vidsearch-voice-strangers-');

describe.skipIf(!hasData)('never-enrolled voices (stranger manifest)', () => {
  it('accepts at most 5 % of the strangers and still names ≥ 90 % of the known queries, short ones included', async () => {
    const metrics = await speakersTask.run(JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>, {
      app: { services: { actors: voice.actors, voices: voice.voices } } as unknown as App,
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
