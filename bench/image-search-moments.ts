// The moments an image search answers, query by query, on a store kept between runs (indexing
// the look-alike set takes minutes; a change to localisation needs only the queries again):
//   npx tsc -p tsconfig.json && VIDSEARCH_STAGES=frames node dist/bench/image-search-moments.js \
//     test/fixtures/image-search-lookalike.json /tmp/moments-store [--half fit] [--only <query name part>] [--debug]
// One JSON line per query: truth, the top answer's video, `at`, `from`/`to`, confidences, and
// the query's CPU (this process; the ffmpeg decodes of the refinement are children, measured
// apart from /proc when available). `--debug` prints the localisation's debug lines (locate.ts).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { generatedQuery, type QueryTransform } from '../src/eval/image-queries.js';
import { createLogger } from '../src/logger.js';

interface Query {
  image?: string;
  video: string;
  time: number;
  transform?: string;
  half?: string;
}

const [manifestPath, storeDir, ...flags] = process.argv.slice(2);
if (!manifestPath || !storeDir) throw new Error('usage: image-search-moments <manifest> <store dir> [--half fit|report] [--debug]');
const half = flags.includes('--half') ? flags[flags.indexOf('--half') + 1] : null;
const only = flags.includes('--only') ? flags[flags.indexOf('--only') + 1]! : null;
const manifestDir = path.dirname(path.resolve(manifestPath));
const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { videos: { id: string; path: string }[]; queries: Query[]; toleranceSec?: number };
const tolerance = manifest.toleranceSec ?? 1;
const resolve = (p: string) => path.resolve(manifestDir, p);

const log = createLogger('warn');
const base = loadConfig();
const app = await createApp({ ...base, dataDir: path.resolve(storeDir), mediaRoots: [...base.mediaRoots, ...new Set(manifest.videos.map((v) => path.dirname(resolve(v.path))))] }, { log });

/** Children's CPU (ffmpeg decodes, once waited for) in ms, from /proc (Linux); 0 elsewhere. */
function childCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return 0;
  }
}

try {
  const known = new Map<string, string>();
  for (let after: string | null = null, first = true; first || after; first = false) {
    const page = await app.store.catalog.listVideos({}, { first: 500, after });
    for (const v of page.items) known.set(v.path, v.id);
    after = page.hasNextPage ? page.endCursor : null;
  }
  const ids = new Map<string, string>();
  for (const v of manifest.videos) ids.set(v.id, known.get(resolve(v.path)) ?? (await app.indexNow({ path: resolve(v.path) })).id);
  if (flags.includes('--debug')) log.level = 'debug';
  const name = (q: Query) => q.image ?? `${q.video}@${q.time}/${q.transform}`;
  for (const q of manifest.queries.filter((q) => (!half || q.half === half) && (!only || name(q).includes(only)))) {
    const video = manifest.videos.find((v) => v.id === q.video)!;
    const image = q.image ? await readFile(resolve(q.image)) : await generatedQuery(app.media, resolve(video.path), q.time, q.transform as QueryTransform);
    if (flags.includes('--debug')) process.stderr.write(`${JSON.stringify({ query: name(q) })}\n`);
    const cpu = process.cpuUsage();
    const children = childCpuMs();
    const [top] = await app.services.imageSearch.searchByImage({ image, first: 1 });
    const used = process.cpuUsage(cpu);
    const rightVideo = top?.video.id === ids.get(q.video);
    const round = (v: number) => Math.round(v * 1000) / 1000;
    process.stdout.write(
      `${JSON.stringify({
        query: name(q),
        half: q.half ?? null,
        transform: q.transform ?? null,
        truth: q.time,
        mode: !top ? 'noAnswer' : !rightVideo ? 'wrongVideo' : Math.abs(top.at - q.time) <= tolerance ? 'right' : 'wrongMoment',
        at: top ? round(top.at) : null,
        from: top ? round(top.from) : null,
        to: top ? round(top.to) : null,
        similarity: top ? round(top.similarity) : null,
        timeConfidence: top ? round(top.timeConfidence) : null,
        momentMargin: top?.momentMargin ?? null,
        cpuMs: Math.round((used.user + used.system) / 1000),
        childCpuMs: childCpuMs() - children,
      })}\n`,
    );
  }
} finally {
  await app.close();
}
