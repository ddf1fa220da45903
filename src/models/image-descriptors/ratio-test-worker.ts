// Body of the ratio-test thread (ratio-test-thread.ts): matches the asked range of query rows and
// posts the result back. Pure computation on copies of the features; no state between requests.
import { parentPort } from 'node:worker_threads';
import { ratioTestMatches } from './local-features.js';
import type { RatioTestReply, RatioTestRequest } from './ratio-test-thread.js';

const port = parentPort!;
port.on('message', (request: RatioTestRequest) => {
  try {
    const result = ratioTestMatches(request.query, request.frame, request.rows);
    port.postMessage({ id: request.id, ok: true, ...result } satisfies RatioTestReply);
  } catch (error) {
    port.postMessage({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies RatioTestReply);
  }
});
