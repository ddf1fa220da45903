// `npm run bench`: runs each benchmark in its own process (fresh memory, honest RSS) and passes
// their JSON lines through. Pick some with: npm run bench -- indexing search
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ALL: Record<string, string[]> = {
  indexing: ['indexing.js', '--minutes', '10', '--stages', 'foundation'],
  'indexing-full': ['indexing.js', '--minutes', '2', '--stages', 'all'],
  'indexing-real': ['indexing-real.js', '--minutes', '3'],
  search: ['search.js'],
  audio: ['audio.js'],
  presence: ['presence.js'],
  ocr: ['ocr.js'],
  ads: ['ads.js'],
  'image-search': ['image-search.js'],
  'nsfw-calibration': ['nsfw-calibration.js'],
  'idle-rss': ['idle-rss.js'],
};

const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
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
    const child = spawn(process.execPath, [path.join(here, script!), ...rest], { stdio: 'inherit' });
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) process.exitCode = code;
}
