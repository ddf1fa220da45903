// Adds package-lock entries for platform-specific optional dependencies (e.g.
// @node-rs/jieba-darwin-arm64) that the registry reachable here does not serve. npm leaves them out
// of the lock when it cannot fetch their metadata, and `npm ci` then refuses the lock as out of
// sync. An entry carries the os/cpu/libc the package name encodes, so npm skips it on any other
// platform without fetching it. Run after `npm install` changes dependencies:
//   node scripts/lock-platform-entries.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const PLATFORM = /(android|darwin|freebsd|linux|openbsd|win32)-(arm64|arm|x64|ia32|ppc64|s390x|riscv64|loong64)(?:-(gnu|musl|msvc|eabi|gnueabihf))?$/;

/** os/cpu/libc of a platform package from its name, or null when the name encodes none. */
export function platformOf(name) {
  const match = PLATFORM.exec(name.split('/').pop());
  if (!match) return null;
  const [, os, cpu, abi] = match;
  const entry = { os: [os], cpu: [cpu] };
  if (os === 'linux' && (abi === 'gnu' || abi === 'musl')) entry.libc = [abi === 'gnu' ? 'glibc' : 'musl'];
  return entry;
}

/** Lock keys of optional platform dependencies that have no entry, with the entry to add. */
export function missingPlatformEntries(lock) {
  const packages = lock.packages ?? {};
  const missing = new Map();
  for (const [key, meta] of Object.entries(packages)) {
    for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
      const nested = `${key ? `${key}/` : ''}node_modules/${dep}`;
      const hoisted = `node_modules/${dep}`;
      if (packages[nested] || packages[hoisted] || missing.has(hoisted)) continue;
      const platform = platformOf(dep);
      if (platform) missing.set(hoisted, { version, optional: true, ...platform });
    }
  }
  return missing;
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
  const missing = missingPlatformEntries(lock);
  if (process.argv.includes('--check')) {
    if (missing.size) {
      console.error(`package-lock.json lacks ${missing.size} platform entries: run node scripts/lock-platform-entries.mjs`);
      process.exit(1);
    }
  } else {
    for (const [key, entry] of missing) lock.packages[key] = entry;
    lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
    writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
    console.error(`added ${missing.size} platform entries to package-lock.json`);
  }
}
