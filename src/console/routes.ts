// GET /console: the editors' web page (static ES modules and CSS, no build step). The page loads
// without a key; its GraphQL calls carry the editor key the page asks for.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

/** The page's files: beside this module in src/, and found from dist/src/ through the repo root. */
function findStaticDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the console module');
    dir = parent;
  }
  return path.join(dir, 'src', 'console', 'static');
}

export const CONSOLE_STATIC_DIR = findStaticDir();

// Only this origin's scripts and styles; media and pictures come from the signed /media URLs
// (and blob: for a dropped screenshot's preview).
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function consoleRouter(): Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.set({ 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    next();
  });
  router.get('/', (_req, res) => {
    res.set('Cache-Control', 'no-cache').sendFile(path.join(CONSOLE_STATIC_DIR, 'index.html'));
  });
  // no-cache: a browser revalidates (ETag) and always runs the served version of the page.
  router.use(express.static(CONSOLE_STATIC_DIR, { index: false, dotfiles: 'ignore', cacheControl: true, maxAge: 0, fallthrough: true }));
  return router;
}
