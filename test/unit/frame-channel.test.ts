// A shared decode's output channel: frames come out in order whether they waited in memory or in
// the spool (a reader that starts late, a reader slower than the decoder), the spool file is gone
// once the reader is done, and an output nobody reads is given up past its spool limit.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameChannel } from '../../src/media/frame-channel.js';

const RECORD = 16;
let dir: string;

const frame = (i: number): { time: number; data: Buffer } => ({ time: i / 10, data: Buffer.alloc(RECORD, i) });

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-channel-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FrameChannel', () => {
  it('hands out every frame in order: spooled before the reader came, then queued, then spooled while it lagged', async () => {
    const file = FrameChannel.spoolFile(dir, 'out');
    let dropped = 0;
    const channel = new FrameChannel(file, RECORD, { hold: () => undefined, dropped: () => void dropped++ });
    for (let i = 0; i < 5; i++) channel.push(frame(i));
    expect(existsSync(file)).toBe(true);
    const reader = channel.consume();
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const next = await reader.next();
      if (next.done) throw new Error('the channel ended early');
      seen.push(next.value.data[0]!);
    }
    // The decoder runs ahead of the reader: more than the memory queue holds.
    for (let i = 5; i < 20; i++) channel.push(frame(i));
    channel.end();
    for await (const record of { [Symbol.asyncIterator]: () => reader }) seen.push(record.data[0]!);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(existsSync(file)).toBe(false);
    expect(dropped).toBe(1);
  });

  it('gives up an output nobody reads once its spool passes the limit', async () => {
    const file = FrameChannel.spoolFile(dir, 'waiting');
    const channel = new FrameChannel(file, RECORD, { hold: () => undefined, dropped: () => undefined, waitingLimitBytes: 10 * (RECORD + 8) });
    for (let i = 0; i < 11; i++) channel.push(frame(i));
    expect(channel.isDropped).toBe(true);
    expect(existsSync(file)).toBe(false);
  });

  it('tells a reader the decode failed, after the frames it did get', async () => {
    const channel = new FrameChannel(FrameChannel.spoolFile(dir, 'failing'), RECORD, { hold: () => undefined, dropped: () => undefined });
    channel.push(frame(1));
    channel.end(new Error('decoder died'));
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const record of channel.consume()) seen.push(record.data[0]!);
      })(),
    ).rejects.toThrow('decoder died');
    expect(seen).toEqual([1]);
  });
});
