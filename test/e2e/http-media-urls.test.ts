// The signer behind /media URLs (fast; lives beside the HTTP tests it protects).
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { MediaUrlSigner, loadMediaSecret } from '../../src/http/media-urls.js';

const secret = Buffer.from('0123456789abcdef0123456789abcdef');

function parts(url: string): { pathname: string; query: Record<string, string> } {
  const parsed = new URL(url, 'http://host');
  return { pathname: parsed.pathname, query: Object.fromEntries(parsed.searchParams) };
}

describe('MediaUrlSigner', () => {
  it('accepts its own URLs until they expire, then says expired', () => {
    let now = Date.UTC(2025, 0, 1, 12, 0, 0);
    const signer = new MediaUrlSigner(secret, { ttlSec: 3600, roundSec: 600, now: () => now });
    const { pathname, query } = parts(signer.keyframeUrl('seg_1', 320));
    expect(signer.verify(pathname, query)).toBe('ok');
    expect(signer.secondsLeft(query)).toBeGreaterThanOrEqual(3600);
    now += 3600 * 1000 + 600 * 1000 + 1000;
    expect(signer.verify(pathname, query)).toBe('expired');
  });

  it('keeps the same URL within one rounding step, so browsers can cache it', () => {
    let now = Date.UTC(2025, 0, 1, 12, 0, 1);
    const signer = new MediaUrlSigner(secret, { ttlSec: 3600, roundSec: 600, now: () => now });
    const first = signer.keyframeUrl('seg_1', null);
    now += 60_000;
    expect(signer.keyframeUrl('seg_1', null)).toBe(first);
  });

  it('rejects other paths, changed or added parameters, another secret and missing fields', () => {
    const signer = new MediaUrlSigner(secret);
    const { pathname, query } = parts(signer.keyframeUrl('seg_1', 320));
    expect(signer.verify('/media/keyframe/seg_2.jpg', query)).toBe('invalid');
    expect(signer.verify(pathname, { ...query, w: '321' })).toBe('invalid');
    expect(signer.verify(pathname, { ...query, extra: '1' })).toBe('invalid');
    expect(signer.verify(pathname, { ...query, exp: String(Number(query.exp) + 600) })).toBe('invalid');
    expect(new MediaUrlSigner(Buffer.from('another-secret-of-32-bytes-long!')).verify(pathname, query)).toBe('invalid');
    const { sig: _sig, ...unsigned } = query;
    expect(signer.verify(pathname, unsigned)).toBe('invalid');
    expect(signer.verify(pathname, { ...query, w: ['1', '2'] })).toBe('invalid');
  });
});

describe('loadMediaSecret', () => {
  it('generates a secret once, persists it privately and reuses it', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'vidsearch-secret-'));
    try {
      const first = await loadMediaSecret({ mediaSecret: null, dataDir });
      const second = await loadMediaSecret({ mediaSecret: null, dataDir });
      expect(first.equals(second)).toBe(true);
      expect(first.length).toBeGreaterThanOrEqual(32);
      const file = path.join(dataDir, 'media-secret');
      expect((await readFile(file, 'utf8')).trim()).toBe(first.toString('utf8'));
      expect((await stat(file)).mode & 0o077).toBe(0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('prefers the configured secret and refuses a short one', async () => {
    expect((await loadMediaSecret({ mediaSecret: 'configured-secret-value', dataDir: '/nonexistent' })).toString()).toBe('configured-secret-value');
    await expect(loadMediaSecret({ mediaSecret: 'short', dataDir: '/nonexistent' })).rejects.toBeInstanceOf(ConfigError);
  });
});
