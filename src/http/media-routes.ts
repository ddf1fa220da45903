// GET /media/keyframe/<segmentId>.jpg?w=…&exp=…&sig=… and GET /media/video/<videoId>?exp=…&sig=…
// Only URLs this server signed (see media-urls.ts) are served: 403 otherwise, or once expired.
// Also /media/clip/<clipId>.mp4 (exported clips, as downloads), /media/actor/<actorId>.jpg and
// /media/frame/<videoId>/<ms>.jpg (the stored frame an image-search match was verified on).
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ActorService } from '../services/actors.js';
import type { ClipService } from '../services/clips.js';
import type { FaceClusterService } from '../services/face-clusters.js';
import type { ImageSearchService } from '../services/image-search/index.js';
import type { MediaService } from '../services/media.service.js';
import type { MediaUrlSigner } from './media-urls.js';

function requireSignature(signer: MediaUrlSigner) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const check = signer.verify(req.originalUrl.split('?')[0]!, req.query as Record<string, unknown>);
    if (check === 'ok') return next();
    res.status(403).json({ error: check === 'expired' ? 'this media URL has expired: ask the API for a new one' : 'invalid media URL signature' });
  };
}

function cacheHeaders(signer: MediaUrlSigner, req: Request): Record<string, string> {
  // The picture behind a signed URL never changes, but the URL stops working at `exp`.
  return { 'Cache-Control': `private, max-age=${signer.secondsLeft(req.query as Record<string, unknown>)}, immutable` };
}

export interface MediaRouterDeps {
  media: MediaService;
  signer: MediaUrlSigner;
  log: Logger;
  faces?: Pick<FaceClusterService, 'getFaces'>;
  clips?: Pick<ClipService, 'clipFile'>;
  actors?: Pick<ActorService, 'thumbnail'>;
  frames?: Pick<ImageSearchService, 'matchFrame'>;
}

export function mediaRouter(deps: MediaRouterDeps): Router {
  const { media, signer, log } = deps;
  const router = express.Router();
  router.use(requireSignature(signer));

  router.get('/keyframe/:file', async (req, res) => {
    const match = /^(.+)\.jpg$/.exec(req.params.file);
    if (!match) {
      res.status(404).json({ error: 'not found' });
      return;
    }
    const width = typeof req.query.w === 'string' ? Number(req.query.w) : null;
    try {
      const file = await media.keyframe(match[1]!, width);
      if (!file) {
        res.status(404).json({ error: 'segment not found' });
        return;
      }
      res.sendFile(file, { headers: { ...cacheHeaders(signer, req), 'Content-Type': 'image/jpeg' }, dotfiles: 'allow' });
    } catch (err) {
      if (err instanceof AppError && err.code === 'BAD_USER_INPUT') {
        res.status(400).json({ error: err.message });
        return;
      }
      log.error({ err, segmentId: match[1] }, 'keyframe extraction failed');
      res.status(500).json({ error: 'could not extract the keyframe' });
    }
  });

  router.get('/face/:file', async (req, res) => {
    const match = /^(.+)\.jpg$/.exec(req.params.file);
    const [face] = match && deps.faces ? await deps.faces.getFaces([match[1]!]) : [null];
    if (!face?.thumbnail) {
      res.status(404).json({ error: 'face picture not found' });
      return;
    }
    res.set({ ...cacheHeaders(signer, req), 'Content-Type': 'image/jpeg' }).send(face.thumbnail);
  });

  router.get('/actor/:file', async (req, res) => {
    const match = /^(.+)\.jpg$/.exec(req.params.file);
    const jpeg = match && deps.actors ? await deps.actors.thumbnail(match[1]!) : null;
    if (!jpeg) {
      res.status(404).json({ error: 'actor picture not found' });
      return;
    }
    res.set({ ...cacheHeaders(signer, req), 'Content-Type': 'image/jpeg' }).send(jpeg);
  });

  router.get('/frame/:videoId/:file', async (req, res) => {
    const match = /^(\d+)\.jpg$/.exec(req.params.file);
    const jpeg = match && deps.frames ? await deps.frames.matchFrame(req.params.videoId, Number(match[1]) / 1000) : null;
    if (!jpeg) {
      res.status(404).json({ error: 'frame not found' });
      return;
    }
    res.set({ ...cacheHeaders(signer, req), 'Content-Type': 'image/jpeg' }).send(Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength));
  });

  router.get('/clip/:file', async (req, res) => {
    const match = /^(.+)\.mp4$/.exec(req.params.file);
    try {
      const clip = match && deps.clips ? await deps.clips.clipFile(match[1]!) : null;
      if (!clip) {
        res.status(404).json({ error: 'clip not found' });
        return;
      }
      res.attachment(clip.downloadName);
      res.sendFile(clip.file, { headers: { ...cacheHeaders(signer, req), 'Content-Type': 'video/mp4' }, dotfiles: 'allow', acceptRanges: true });
    } catch (err) {
      log.error({ err, clipId: match?.[1] }, 'clip export failed');
      res.status(500).json({ error: 'could not cut the clip' });
    }
  });

  router.get('/video/:videoId', async (req, res) => {
    const file = await media.videoFile(req.params.videoId);
    if (!file) {
      res.status(404).json({ error: 'video not found' });
      return;
    }
    // send() answers Range requests, so players can seek.
    res.sendFile(file, { headers: cacheHeaders(signer, req), dotfiles: 'allow', acceptRanges: true });
  });

  return router;
}
