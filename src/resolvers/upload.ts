// Reading graphql-upload files into memory (search pictures, enrolment images and voices).
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { PayloadTooLargeError } from '../errors.js';

export interface ReadUpload {
  filename: string;
  data: Buffer;
}

/**
 * Reads an upload, refusing it as soon as it passes `maxBytes` (never buffers more). The
 * server's multipart limit is the outer cap: graphql-upload then fails the stream with 413.
 */
export async function readUpload(upload: Promise<FileUpload>, opts: { maxBytes?: number; label?: string } = {}): Promise<ReadUpload> {
  const file = await upload;
  const filename = file.filename || opts.label || 'the upload';
  const maxBytes = opts.maxBytes ?? Infinity;
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = file.createReadStream();
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        stream.destroy();
        throw new PayloadTooLargeError(`${filename} is larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if ((err as { status?: number }).status === 413) throw new PayloadTooLargeError(`${filename} is larger than the upload limit`);
    throw err;
  }
  return { filename, data: Buffer.concat(chunks) };
}
