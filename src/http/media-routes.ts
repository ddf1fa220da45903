// GET /media/keyframe/<segmentId>.jpg?w=…&exp=…&sig=… and GET /media/video/<videoId>?exp=…&sig=…
// Only URLs this server signed (see media-urls.ts) are served: 403 otherwise, or once expired.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FaceClusterService } from '../services/face-clusters.js';
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

export function mediaRouter(deps: { media: MediaService; signer: MediaUrlSigner; log: Logger; faces?: Pick<FaceClusterService, 'getFaces'> }): Router {
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
