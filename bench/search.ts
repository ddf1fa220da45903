// searchSegments latency through the real service over a synthetic library. Wall time suffers from
// other load on the machine; CPU ms per query (this process's user+system time) is steadier.
//   node dist/bench/search.js [--segments 1000000] [--queries 500]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { percentile } from '../src/eval/metrics.js';
import { createLogger } from '../src/logger.js';
import { buildSyntheticLibrary, QUERY_MIX } from './synthetic-library.js';

const { values } = parseArgs({
  options: { segments: { type: 'string', default: '1000000' }, queries: { type: 'string', default: '500' } },
});
const segments = Number(values.segments);
const queries = Number(values.queries);
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-bench-search-'));
const app = await createApp({ ...loadConfig(), dataDir }, { log: createLogger('warn') });
try {
  const buildStart = performance.now();
  await buildSyntheticLibrary(app.store, {
    segments,
    onProgress: (done) => {
      if (done % 100_000 === 0) process.stderr.write(`bench: ${done} segments written\n`);
    },
  });
  const buildSec = (performance.now() - buildStart) / 1000;

  // Warm-up, then timed queries round-robin over the mix (common and rare, zh and en).
  for (const q of QUERY_MIX) await app.services.search.searchSegments(q, null, 20, null);
  const latencies: number[] = [];
  const cpuMs: number[] = [];
  let hits = 0;
  for (let i = 0; i < queries; i++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const page = await app.services.search.searchSegments(QUERY_MIX[i % QUERY_MIX.length]!, null, 20, null);
    latencies.push(performance.now() - start);
    const cpu = process.cpuUsage(cpuStart);
    cpuMs.push((cpu.user + cpu.system) / 1000);
    hits += page.edges.length;
  }
  console.log(
    JSON.stringify({
      bench: 'searchSegments',
      segments,
      buildSec: Number(buildSec.toFixed(1)),
      queries,
      meanHitsPerPage: Number((hits / queries).toFixed(1)),
      p50Ms: Number(percentile(latencies, 50)!.toFixed(2)),
      p99Ms: Number(percentile(latencies, 99)!.toFixed(2)),
      cpuP50Ms: Number(percentile(cpuMs, 50)!.toFixed(2)),
      cpuP99Ms: Number(percentile(cpuMs, 99)!.toFixed(2)),
    }),
  );
} finally {
  await app.close();
  await rm(dataDir, { recursive: true, force: true });
}
