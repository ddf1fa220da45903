// Reading a graphql-upload file into memory with a hard size limit (image uploads of searches).
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { PayloadTooLargeError } from '../errors.js';

/** Reads an upload, refusing it as soon as it passes the size limit (never buffers more). */
export async function readUpload(upload: Promise<FileUpload>, maxBytes: number): Promise<Buffer> {
  const file = await upload;
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = file.createReadStream();
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      stream.destroy();
      throw new PayloadTooLargeError(`the upload is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
