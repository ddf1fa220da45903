// Signed, expiring /media URLs, so <img>/<video> tags work without an Authorization header while
// the pictures stay as private as the API. HMAC-SHA256 over path + parameters with a server secret.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type Config } from '../config.js';

export interface MediaUrlOptions {
  /** How long a URL stays valid at least. */
  ttlSec?: number;
  /** Expiry is rounded up to this step so the same picture keeps the same URL for a while (browser caching). */
  roundSec?: number;
  now?: () => number;
}

const MIN_SECRET_BYTES = 16;

export type SignatureCheck = 'ok' | 'expired' | 'invalid';

export class MediaUrlSigner {
  private readonly ttlSec: number;
  private readonly roundSec: number;
  private readonly now: () => number;

  constructor(
    private readonly secret: Buffer,
    options: MediaUrlOptions = {},
  ) {
    if (secret.length < MIN_SECRET_BYTES) throw new Error(`media secret must be at least ${MIN_SECRET_BYTES} bytes`);
    this.ttlSec = options.ttlSec ?? 3600;
    this.roundSec = options.roundSec ?? 600;
    this.now = options.now ?? Date.now;
  }

  /** JPEG of a segment's keyframe; `width` null keeps the video's own size. */
  keyframeUrl(segmentId: string, width: number | null): string {
    return this.sign(`/media/keyframe/${encodeURIComponent(segmentId)}.jpg`, width === null ? {} : { w: String(width) });
  }

  /** JPEG of the frame an image-search match was verified on (stored at index time, 320 px wide). */
  matchFrameUrl(videoId: string, time: number): string {
    return this.sign(`/media/frame/${encodeURIComponent(videoId)}/${Math.round(time * 1000)}.jpg`, {});
  }

  /** JPEG of one face seen in a video (the aligned crop kept for a track's best faces). */
  faceUrl(faceId: string): string {
    return this.sign(`/media/face/${encodeURIComponent(faceId)}.jpg`, {});
  }

  /** The video file itself (HTTP range requests work, for <video> seeking). */
  videoUrl(videoId: string): string {
    return this.sign(`/media/video/${encodeURIComponent(videoId)}`, {});
  }

  /** An exported clip (MP4, downloaded as an attachment). */
  clipUrl(clipId: string): string {
    return this.sign(`/media/clip/${encodeURIComponent(clipId)}.mp4`, {});
  }

  /** JPEG of an actor's first enrolled face. */
  actorUrl(actorId: string): string {
    return this.sign(`/media/actor/${encodeURIComponent(actorId)}.jpg`, {});
  }

  /** Checks a request's path and query (as parsed by express) against its `sig`. */
  verify(pathname: string, query: Record<string, unknown>): SignatureCheck {
    const { sig, ...params } = query;
    if (typeof sig !== 'string' || typeof params.exp !== 'string') return 'invalid';
    const strings: Record<string, string> = {};
    for (const [key, value] of Object.entries(params)) {
      if (typeof value !== 'string') return 'invalid';
      strings[key] = value;
    }
    const expected = Buffer.from(this.signature(pathname, strings), 'base64url');
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    return Number(params.exp) * 1000 < this.now() ? 'expired' : 'ok';
  }

  /** Seconds until the URL expires (for Cache-Control); 0 when already expired or unparsable. */
  secondsLeft(query: Record<string, unknown>): number {
    const exp = Number(query.exp);
    return Number.isFinite(exp) ? Math.max(0, Math.floor(exp - this.now() / 1000)) : 0;
  }

  private sign(pathname: string, params: Record<string, string>): string {
    const exp = Math.ceil((this.now() / 1000 + this.ttlSec) / this.roundSec) * this.roundSec;
    const all = { ...params, exp: String(exp) };
    const query = new URLSearchParams({ ...all, sig: this.signature(pathname, all) });
    return `${pathname}?${query.toString()}`;
  }

  private signature(pathname: string, params: Record<string, string>): string {
    const canonical = Object.keys(params)
      .sort()
      .map((key) => `${key}=${params[key]}`)
      .join('&');
    return createHmac('sha256', this.secret).update(`${pathname}?${canonical}`).digest('base64url');
  }
}

/** config.mediaSecret, else the secret persisted in `<dataDir>/media-secret` (created on first use). */
export async function loadMediaSecret(config: Pick<Config, 'mediaSecret' | 'dataDir'>): Promise<Buffer> {
  if (config.mediaSecret) {
    if (config.mediaSecret.length < MIN_SECRET_BYTES) throw new ConfigError(`VIDSEARCH_MEDIA_SECRET must be at least ${MIN_SECRET_BYTES} characters`);
    return Buffer.from(config.mediaSecret, 'utf8');
  }
  const file = path.join(config.dataDir, 'media-secret');
  const existing = await readFile(file, 'utf8').catch(() => null);
  if (existing?.trim()) return Buffer.from(existing.trim(), 'utf8');
  await mkdir(config.dataDir, { recursive: true });
  const generated = randomBytes(32).toString('hex');
  try {
    // 'wx': when two processes start at once, the first one's secret wins.
    await writeFile(file, `${generated}\n`, { mode: 0o600, flag: 'wx' });
    return Buffer.from(generated, 'utf8');
  } catch {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'utf8');
  }
}
