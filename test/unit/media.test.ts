import { createHash } from 'node:crypto';
import { open, readFile, truncate, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedMediaError } from '../../src/errors.js';
import { extractAudioPcm, extractFrame, MediaDecodeError, streamFrames, type RawFrame } from '../../src/media/frames.js';
import { greyThumbnail } from '../../src/models/image-descriptors/grey-thumbnail.js';
import { contentHash, interpretProbe, parseFfmpegInputInfo, probeMedia } from '../../src/media/probe.js';
import { MediaProcessError, runTool, streamToolRecords } from '../../src/media/process.js';
import { makeAudioOnly, makeSurroundVideo, makeTempDir, makeTestVideo, runFfmpeg, testTools } from '../helpers/media.js';

let dir: string;
let cleanup: () => Promise<void>;
let clip: string;

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
  clip = (await makeTestVideo({ dir, durationSec: 3, cuts: [1.5], audio: 'tone' })).path;
});
afterAll(() => cleanup());

async function collect(frames: AsyncIterable<RawFrame>): Promise<RawFrame[]> {
  const out: RawFrame[] = [];
  for await (const f of frames) out.push(f);
  return out;
}

describe('probeMedia', () => {
  it('reads size, rate, duration and streams', async () => {
    const probe = await probeMedia(testTools, clip);
    expect(probe).toMatchObject({ width: 320, height: 180, rotation: 0, hasVideo: true, hasAudio: true, videoCodec: 'h264', variableFrameRate: false });
    expect(probe.fps).toBeCloseTo(25, 3);
    expect(probe.durationSec).toBeGreaterThan(2.9);
    expect(probe.durationSec).toBeLessThan(3.2);
    expect(probe.audioStreams).toHaveLength(1);
    expect(probe.audioStreams[0]).toMatchObject({ codec: 'aac', channels: 1, sampleRate: 44100 });
  });

  it('reports displayed size for a rotated phone video', async () => {
    const rotated = await makeTestVideo({ dir, name: 'rotated', durationSec: 1, rotation: 90 });
    const probe = await probeMedia(testTools, rotated.path);
    // Sideways either way: the bundled 2018 muxer writes the tag's sign inverted.
    expect([90, 270]).toContain(probe.rotation);
    expect([probe.width, probe.height]).toEqual([180, 320]);
    // Frames come out upright too, at the displayed aspect.
    const [first] = await collect(streamFrames(testTools, rotated.path, { width: 90, pixFmt: 'gray', fps: 5, end: 0.1 }));
    expect([first!.width, first!.height]).toEqual([90, 160]);
  });

  it('rejects files that are not video', async () => {
    const empty = path.join(dir, 'empty.mp4');
    const text = path.join(dir, 'notes.mp4');
    await writeFile(empty, '');
    await writeFile(text, 'this is not a video\n'.repeat(50));
    const audio = await makeAudioOnly(dir);
    for (const file of [empty, text, audio, path.join(dir, 'missing.mp4')]) {
      await expect(probeMedia(testTools, file), file).rejects.toBeInstanceOf(UnsupportedMediaError);
    }
  });

  it('probes MPEG-TS with a late start (ffmpeg stands in when ffprobe crashes)', async () => {
    const ts = path.join(dir, 'late.ts');
    await runFfmpeg(['-i', clip, '-c', 'copy', '-output_ts_offset', '5', '-f', 'mpegts', ts]);
    const probe = await probeMedia(testTools, ts);
    expect(probe).toMatchObject({ width: 320, height: 180, hasAudio: true, formatName: 'mpegts' });
    expect(probe.startTime).toBeGreaterThan(4.9);
    const frames = await collect(streamFrames(testTools, ts, { fps: 10, width: 32, pixFmt: 'gray', end: 0.55, probe }));
    expect(frames[0]!.time).toBeCloseTo(0, 1);
  });

  it('reads the same facts from ffmpeg\'s input summary as from ffprobe', async () => {
    const rotated = await makeTestVideo({ dir, name: 'summary', durationSec: 1, rotation: 90, audio: 'tone', extension: 'mkv' });
    let summary = '';
    await runTool(testTools.ffmpeg, ['-hide_banner', '-i', rotated.path], { onStderrLine: (l) => void (summary += `${l}\n`) }).catch(() => undefined);
    const fromFfmpeg = interpretProbe(rotated.path, parseFfmpegInputInfo(summary));
    const fromFfprobe = await probeMedia(testTools, rotated.path);
    for (const key of ['width', 'height', 'rotation', 'hasAudio', 'videoCodec', 'formatName'] as const) expect(fromFfmpeg[key], key).toEqual(fromFfprobe[key]);
    expect(fromFfmpeg.fps).toBeCloseTo(fromFfprobe.fps, 2);
    expect(fromFfmpeg.durationSec).toBeCloseTo(fromFfprobe.durationSec, 1);
    expect(fromFfmpeg.audioStreams[0]).toMatchObject({ codec: 'aac', channels: 1, sampleRate: 44100 });
  });

  it('hashes content with sha256', async () => {
    const expected = createHash('sha256').update(await readFile(clip)).digest('hex');
    expect(await contentHash(clip)).toBe(expected);
  });
});

describe('streamFrames', () => {
  it('samples at the requested rate with media-timeline times and aspect-kept size', async () => {
    const frames = await collect(streamFrames(testTools, clip, { fps: 10, width: 64, pixFmt: 'rgb24' }));
    expect(frames.length).toBeGreaterThanOrEqual(29);
    expect(frames.length).toBeLessThanOrEqual(31);
    expect(frames[0]!).toMatchObject({ width: 64, height: 36 });
    expect(frames[0]!.data.length).toBe(64 * 36 * 3);
    frames.forEach((f, i) => expect(f.time).toBeCloseTo(i / 10, 2));
  });

  it('resizes again to a final width in the decoder: grey thumbnails within a grey level of sharp’s resize of the larger frames', async () => {
    const window = { start: 0.5, end: 1.2 };
    const frames = await collect(streamFrames(testTools, clip, { ...window, width: 320, pixFmt: 'rgb24' }));
    const thumbnails = await collect(streamFrames(testTools, clip, { ...window, width: 320, finalWidth: 160, pixFmt: 'gray' }));
    expect(thumbnails.map((t) => t.time)).toEqual(frames.map((f) => f.time));
    expect(thumbnails[0]!).toMatchObject({ width: 160, height: 90 });
    expect(thumbnails[0]!.data.length).toBe(160 * 90);
    for (const [k, frame] of frames.entries()) {
      const reference = await greyThumbnail({ data: frame.data, width: frame.width, height: frame.height, channels: 3 });
      const difference = reference.grey.reduce((sum, level, i) => sum + Math.abs(level - thumbnails[k]!.data[i]!), 0) / reference.grey.length;
      expect(difference).toBeLessThan(1);
    }
  });

  it('honours start/end and keyframes-only decoding', async () => {
    const window = await collect(streamFrames(testTools, clip, { fps: 10, width: 32, pixFmt: 'gray', start: 1, end: 2 }));
    expect(window[0]!.time).toBeGreaterThanOrEqual(0.999);
    expect(window.at(-1)!.time).toBeLessThanOrEqual(2.0001);
    expect(window.length).toBeGreaterThanOrEqual(10);
    // The helper encodes a keyframe every second (-g 25).
    const keys = await collect(streamFrames(testTools, clip, { keyframesOnly: true, width: 32, pixFmt: 'gray' }));
    expect(keys.map((k) => Math.round(k.time * 100) / 100)).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(keys.length).toBeLessThanOrEqual(4);
  });

  it('keeps times on the media timeline when the file starts late', async () => {
    const offset = path.join(dir, 'offset.mkv');
    await runFfmpeg(['-i', clip, '-c', 'copy', '-output_ts_offset', '5', offset]);
    const probe = await probeMedia(testTools, offset);
    expect(probe.startTime).toBeGreaterThan(4.9);
    const frames = await collect(streamFrames(testTools, offset, { fps: 10, width: 32, pixFmt: 'gray', end: 0.55 }));
    expect(frames[0]!.time).toBeCloseTo(0, 1);
  });

  it('flags variable frame rate and keeps true times through it', async () => {
    const vfr = path.join(dir, 'vfr.mp4');
    // 25 fps for a second, then 12.5 fps.
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=25:d=3', '-vf', "setpts='if(lt(N,25),N/25,1+(N-25)/12.5)/TB'", '-vsync', 'vfr', '-c:v', 'libx264', '-preset', 'ultrafast', vfr]);
    const probe = await probeMedia(testTools, vfr);
    expect(probe.variableFrameRate).toBe(true);
    expect(probe.durationSec).toBeGreaterThan(4.8);
    const all = await collect(streamFrames(testTools, vfr, { width: 32, pixFmt: 'gray', probe }));
    expect(all).toHaveLength(75);
    expect(all[30]!.time).toBeCloseTo(1 + 5 / 12.5, 3);
  });

  it('kills a stream that stops producing', async () => {
    const silent = streamToolRecords(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], 16, { stallTimeoutMs: 200 });
    const started = Date.now();
    await expect(collect(silent as AsyncIterable<never>)).rejects.toBeInstanceOf(MediaProcessError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops ffmpeg when aborted', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = (async () => {
      for await (const f of streamFrames(testTools, clip, { fps: 25, width: 32, pixFmt: 'gray', signal: controller.signal })) {
        seen.push(f.time);
        if (seen.length === 3) controller.abort(new Error('stop now'));
      }
    })();
    await expect(run).rejects.toThrow('stop now');
    expect(seen.length).toBeLessThan(20);
  });

  it('fails strict decoding of a file truncated mid-way', async () => {
    const broken = path.join(dir, 'truncated.mkv');
    await runFfmpeg(['-i', clip, '-c', 'copy', broken]);
    await truncate(broken, Math.floor((await stat(broken)).size * 0.5));
    const probe = await probeMedia(testTools, broken);
    expect(probe.hasVideo).toBe(true);
    await expect(collect(streamFrames(testTools, broken, { fps: 10, width: 32, pixFmt: 'gray', strict: true, probe }))).rejects.toBeInstanceOf(MediaDecodeError);
  });

  it('fails strict decoding of a file with garbage in the middle, and reads a healthy one', async () => {
    const damaged = path.join(dir, 'damaged.mp4');
    await writeFile(damaged, await readFile(clip));
    const size = (await stat(damaged)).size;
    const handle = await open(damaged, 'r+');
    // Deterministic junk over a tenth of the file, past its middle (the header stays readable).
    const junk = Buffer.alloc(Math.floor(size * 0.1), 0).map((_, i) => (i * 7919 + 13) % 251);
    await handle.write(junk, 0, junk.length, Math.floor(size * 0.55));
    await handle.close();
    await expect(collect(streamFrames(testTools, damaged, { fps: 10, width: 32, pixFmt: 'gray', strict: true }))).rejects.toBeInstanceOf(MediaDecodeError);
    const healthy = await collect(streamFrames(testTools, clip, { fps: 10, width: 32, pixFmt: 'gray', strict: true }));
    expect(healthy.length).toBeGreaterThanOrEqual(29);
  });
});

describe('extractFrame and extractAudioPcm', () => {
  it('encodes JPEG/PNG thumbnails and raw RGB frames', async () => {
    const jpeg = await extractFrame(testTools, clip, 1.0, { width: 160, format: 'jpeg' });
    expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    const png = await extractFrame(testTools, clip, 1.0, { format: 'png' });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const raw = await extractFrame(testTools, clip, 2.0, { width: 80, format: 'rgb24' });
    expect(raw).toMatchObject({ width: 80, height: 46 });
    expect(raw.data.length).toBe(80 * 46 * 3);
  });

  it('extracts mono 16 kHz PCM and downmixes 5.1', async () => {
    const pcm = await extractAudioPcm(testTools, clip, { sampleRate: 16000, channels: 1 });
    expect(pcm.length / 16000).toBeCloseTo(3, 1);
    const surround = await makeSurroundVideo(dir);
    const mixed = await extractAudioPcm(testTools, surround, { sampleRate: 16000, channels: 1 });
    expect(mixed.length / 16000).toBeCloseTo(2, 1);
    const rms = Math.sqrt(mixed.reduce((sum, x) => sum + x * x, 0) / mixed.length);
    // The tone lives only in the centre channel; a mono mix must keep it audible.
    expect(rms).toBeGreaterThan(0.05);
  });
});
