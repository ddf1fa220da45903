// Writes test/fixtures/speakers-strangers.json, the "speakers" eval manifest for voices nobody
// enrolled (src/models/voice/README.md): the gallery and queries of ../shared/data/speakers.json,
// the same known queries cut to their first 2 and 3.5 s (short speech), and as unknown queries
// the "strangers" part of the background split (src/models/voice/background-split.json) — whole
// files of at least MIN_STRANGER_SEC plus the first 2.5 s of those longer than 5 s. Those
// speakers trained nothing, formed no cohort and set no threshold.
//   node scripts/make-speakers-strangers.mjs
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(repo, '../shared/data');
const out = path.join(repo, 'test/fixtures/speakers-strangers.json');
const ffprobe = path.join(repo, 'node_modules/@ffprobe-installer/linux-x64/ffprobe');
/** Shorter stranger files (isolated spoken digits) hold under 1 s of speech: nothing to test. */
const MIN_STRANGER_SEC = 2;
const SHORT_WINDOWS = [2, 3.5];
const STRANGER_WINDOW = 2.5;

const rel = (file) => path.relative(path.dirname(out), file);
const duration = (file) => Number(spawnSync(ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).stdout.toString().trim());

const dev = JSON.parse(readFileSync(path.join(data, 'speakers.json'), 'utf8'));
const split = JSON.parse(readFileSync(path.join(repo, 'src/models/voice/background-split.json'), 'utf8'));
const gallery = dev.gallery.map((g) => ({ identity: g.identity, audio: g.audio.map((a) => rel(path.join(data, a))) }));
const queries = [];
for (const q of dev.queries) {
  const audio = rel(path.join(data, q.audio));
  queries.push({ audio, identity: q.identity });
  if (q.identity !== null) for (const end of SHORT_WINDOWS) queries.push({ audio, identity: q.identity, start: 0, end });
}
for (const speaker of split.parts.strangers) {
  const dir = path.join(data, 'speech_background', speaker);
  for (const name of readdirSync(dir).filter((f) => /\.(wav|flac|mp3)$/i.test(f)).sort()) {
    const file = path.join(dir, name);
    const seconds = duration(file);
    if (seconds < MIN_STRANGER_SEC) continue;
    queries.push({ audio: rel(file), identity: null });
    if (seconds > 5) queries.push({ audio: rel(file), identity: null, start: 0, end: STRANGER_WINDOW });
  }
}
writeFileSync(out, JSON.stringify({ task: 'speakers', gallery, queries }, null, 1) + '\n');
console.log(`${out}: ${gallery.length} gallery identities, ${queries.filter((q) => q.identity).length} known and ${queries.filter((q) => !q.identity).length} unknown queries`);
