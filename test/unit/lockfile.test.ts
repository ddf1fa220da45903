// `npm ci` on a fresh machine refuses a lock that lacks the optional platform packages the
// registry here does not serve; scripts/lock-platform-entries.mjs adds them. This keeps it so.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import { missingPlatformEntries, platformOf } from '../../scripts/lock-platform-entries.mjs';
import { repoRoot } from '../helpers/shared-data.js';

describe('package-lock.json', () => {
  it('has an entry for every optional platform dependency (else run scripts/lock-platform-entries.mjs)', () => {
    const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as unknown;
    expect([...(missingPlatformEntries(lock) as Map<string, unknown>).keys()]).toEqual([]);
  });

  it('reads os, cpu and libc from platform package names', () => {
    expect(platformOf('@node-rs/jieba-linux-arm64-musl')).toEqual({ os: ['linux'], cpu: ['arm64'], libc: ['musl'] });
    expect(platformOf('@swc/core-win32-ia32-msvc')).toEqual({ os: ['win32'], cpu: ['ia32'] });
    expect(platformOf('@node-rs/jieba')).toBeNull();
  });
});
