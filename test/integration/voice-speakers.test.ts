// The voice path end to end on real audio: Silero VAD + GMM-UBM embedder + embedded store +
// ffmpeg decoding, through the actor and voice services and the `speakers` eval task.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { speakersTask } from '../../src/eval/speakers.js';
import { EvalInputError } from '../../src/eval/types.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { ACTOR_VOICES_COLLECTION } from '../../src/services/voices.js';
import { sharedData } from '../helpers/shared-data.js';
import { voiceServicesPerFile } from '../helpers/voice-services.js';

const manifestFile = sharedData('speakers.json');
const tools = resolveMediaTools({ ffmpegPath: null, ffprobePath: null });
const voice = voiceServicesPerFile('vidsearch-voice-it-');
const { work } = voice;

/** Writes a test signal with ffmpeg's lavfi sources (e.g. silence, a tone, 5.1 layouts). */
function synth(name: string, args: string[]): string {
  const file = path.join(work, name);
  const run = spawnSync(tools.ffmpeg, ['-v', 'error', '-y', ...args, file]);
  if (run.status !== 0) throw new Error(run.stderr.toString());
  return file;
}

describe.skipIf(!manifestFile)('speakers eval on ../shared/data/speakers.json', () => {
  it('identifies the enrolled LibriSpeech voices and rejects the strangers', async () => {
    const manifest = JSON.parse(readFileSync(manifestFile!, 'utf8')) as Record<string, unknown>;
    const lines: string[] = [];
    const metrics = await speakersTask.run(manifest, {
      app: { services: { actors: voice.actors, voices: voice.voices } } as unknown as App,
      resolve: (rel) => path.resolve(path.dirname(manifestFile!), rel),
      options: {},
      progress: (line) => lines.push(line),
      indexVideos: async () => new Map(),
    });
    console.log('speakers eval', JSON.stringify(metrics));
    expect(metrics.queries).toBe(39);
    expect(metrics.skippedGallery).toBe(0);
    expect(metrics.knownAccuracy as number).toBeGreaterThanOrEqual(0.95);
    expect(metrics.unknownRejection as number).toBe(1);
    expect(metrics.rank1 as number).toBeGreaterThanOrEqual(0.97);
    // A small fraction of real time on one core.
    expect(metrics.msPerAudioSecond as number).toBeLessThan(100);
    expect(await voice.voices.voiceCounts([...(await voice.actors.listActors(null, 10)).edges.map((e) => e.node.id)])).toEqual([3, 3, 3, 3, 3]);
  });

  it('rejects a malformed manifest before doing any work', async () => {
    const ctx = { app: {} as App, resolve: (p: string) => p, options: {}, progress: () => {}, indexVideos: async () => new Map<string, string>() };
    await expect(speakersTask.run({ gallery: [{ identity: 'x' }], queries: [] }, ctx)).rejects.toBeInstanceOf(EvalInputError);
  });
});

describe('voice enrolment on bad input', () => {
  it('refuses to enrol a voice file with no speech (silence, music-like tone) as BAD_USER_INPUT and keeps nothing', async () => {
    const silence = synth('silence.wav', ['-f', 'lavfi', '-i', 'anullsrc=r=44100:cl=stereo', '-t', '3']);
    const tone = synth('tone-51.flac', ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-af', 'pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0', '-t', '3']);
    for (const file of [silence, tone]) {
      await expect(voice.actors.enrollActor({ name: 'Nobody', voicePaths: [file] })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/no speech/) });
    }
    expect((await voice.actors.listActors('Nobody', 10)).totalCount).toBe(0);
  });

  it('reports a corrupt or video-less file as undecodable, and a path outside the media roots as BAD_USER_INPUT', async () => {
    const corrupt = path.join(work, 'corrupt.mp3');
    spawnSync('sh', ['-c', `head -c 20000 /dev/urandom > ${corrupt}`]);
    await expect(voice.actors.enrollActor({ name: 'Broken', voicePaths: [corrupt] })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/no decodable audio/) });
    await expect(voice.actors.enrollActor({ name: 'Outside', voicePaths: ['/etc/hostname'] })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/outside the media roots/) });
  });

  it.skipIf(!manifestFile)('enrols from an upload at another sample rate and layout, skips silence in addVoices, and deletes templates with the actor', async () => {
    // Speaker 1998 is one of the eval's strangers: nobody else in this store has that voice.
    const speech = sharedData('speech_speakers/librispeech_test-other/1998/1998-15444-0000.flac')!;
    const stereo8k = synth('stereo8k.mp3', ['-i', speech, '-ac', '2', '-ar', '8000']);
    const actor = await voice.actors.enrollActor({ name: 'Upload', voices: [{ filename: 'take.mp3', data: readFileSync(stereo8k) }] });
    const silence = synth('silence2.wav', ['-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-t', '2']);
    const added = await voice.voices.addVoices(actor.id, { voicePaths: [silence] });
    expect(added).toEqual({ added: 0, skipped: [{ source: silence, reason: expect.stringMatching(/no speech/) }] });
    expect(await voice.voices.voiceCounts([actor.id])).toEqual([1]);

    const query = await voice.voices.embedAudioFile(sharedData('speech_speakers/librispeech_test-other/1998/1998-15444-0001.flac')!);
    expect(query.audioSec).toBeGreaterThan(5);
    const match = await voice.voices.identifyVoice(query.voice!);
    expect(match?.actorId).toBe(actor.id);
    expect(match!.confidence).toBeGreaterThan(0.5);

    await voice.actors.deleteActor(actor.id);
    expect(await voice.store.vectors.count(ACTOR_VOICES_COLLECTION, { actorIds: [actor.id] })).toBe(0);
    await expect(voice.voices.addVoices(actor.id, { voicePaths: [silence] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
