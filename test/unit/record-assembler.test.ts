// Raw frames cut from pipe chunks of any size: every record whole and in order, views when a
// record lies inside one chunk, each record its own bytes however the chunks fall.
import { describe, expect, it } from 'vitest';
import { RecordAssembler } from '../../src/media/record-assembler.js';

function stream(bytes: number): Buffer {
  return Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 7 + 3) % 251));
}

describe('RecordAssembler', () => {
  it.each([1, 5, 6, 7, 12, 13, 64])('cuts a stream in chunks of %i bytes into the same records', (chunkBytes) => {
    const data = stream(6 * 9 + 4);
    const assembler = new RecordAssembler(6);
    const records: Buffer[] = [];
    for (let offset = 0; offset < data.length; offset += chunkBytes) records.push(...assembler.push(data.subarray(offset, offset + chunkBytes)));
    expect(records).toHaveLength(9);
    records.forEach((record, i) => expect(record.equals(data.subarray(i * 6, i * 6 + 6))).toBe(true));
    expect(assembler.pendingBytes).toBe(4);
    expect(assembler.tail()!.equals(data.subarray(54))).toBe(true);
  });

  it('views records inside one chunk and copies those across chunks', () => {
    const assembler = new RecordAssembler(4);
    const first = Buffer.from([1, 2, 3, 4, 5, 6]);
    const [inside] = assembler.push(first);
    expect(inside!.buffer).toBe(first.buffer);
    const [across] = assembler.push(Buffer.from([7, 8, 9]));
    expect([...across!]).toEqual([5, 6, 7, 8]);
    first[4] = 0; // the chunk the spanning record began in is not shared
    expect([...across!]).toEqual([5, 6, 7, 8]);
    expect(assembler.tail()).toEqual(Buffer.from([9]));
  });
});
