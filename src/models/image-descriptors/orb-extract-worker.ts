// Body of the ORB extraction thread (orb-extract-thread.ts): extracts and packs the features of
// each image it is sent and posts them back, one request at a time.
import { parentPort } from 'node:worker_threads';
import { OrbMatcher, packFeatures } from './local-features.js';
import type { OrbExtractReply, OrbExtractRequest } from './orb-extract-thread.js';

const port = parentPort!;
const matcher = new OrbMatcher();
port.on('message', (request: OrbExtractRequest) => {
  matcher.extract(request.image).then(
    (features) => {
      const packed = packFeatures(features);
      port.postMessage({ id: request.id, ok: true, packed } satisfies OrbExtractReply, [packed.buffer as ArrayBuffer]);
    },
    (error: unknown) => port.postMessage({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies OrbExtractReply),
  );
});
