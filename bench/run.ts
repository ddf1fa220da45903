// `npm run bench`: runs each benchmark in its own process (fresh memory, honest RSS) and passes
// their JSON lines through. Pick some with: npm run bench -- indexing search. Options after the
// names go to each chosen benchmark: npm run bench -- idle-rss --command serve --video clip.mp4
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ALL: Record<string, string[]> = {
  indexing: ['indexing.js', '--minutes', '10', '--stages', 'foundation'],
  'indexing-full': ['indexing.js', '--minutes', '2', '--stages', 'all'],
  'indexing-real': ['indexing-real.js', '--minutes', '3'],
  'decode-graph': ['decode-graph.js', '--minutes', '3'],
  search: ['search.js'],
  audio: ['audio.js'],
  presence: ['presence.js'],
  'faces-cast-cost': ['faces-cast-cost.js'],
  ocr: ['ocr.js'],
  'ocr-profile': ['ocr-profile.js', '--minutes', '3'],
  ads: ['ads.js'],
  'image-search': ['image-search.js'],
  'keyframe-reuse': ['keyframe-reuse.js'],
  'nsfw-calibration': ['nsfw-calibration.js'],
  'idle-rss': ['idle-rss.js'],
};

const argv = process.argv.slice(2);
const firstOption = argv.findIndex((a) => a.startsWith('-'));
const chosen = firstOption < 0 ? argv : argv.slice(0, firstOption);
const passed = firstOption < 0 ? [] : argv.slice(firstOption);
const names = chosen.length ? chosen : Object.keys(ALL);
for (const name of names) {
  const args = ALL[name];
  if (!args) {
    process.stderr.write(`bench: unknown benchmark "${name}" (known: ${Object.keys(ALL).join(', ')})\n`);
    process.exitCode = 2;
    continue;
  }
  const [script, ...rest] = args;
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [path.join(here, script!), ...rest, ...passed], { stdio: 'inherit' });
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) process.exitCode = code;
}
