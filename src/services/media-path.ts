// Where indexVideo may read from: a regular file whose real path (after symlinks) lies inside one
// of the configured media roots. Checked before anything else, so the API cannot be used to read
// or probe arbitrary files on the server.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { BadInputError } from '../errors.js';

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== '' && !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel);
}

async function realRoots(mediaRoots: readonly string[]): Promise<string[]> {
  const roots = await Promise.all(mediaRoots.map((root) => realpath(root).catch(() => null)));
  return roots.filter((root): root is string => root !== null);
}

/** The symlink-resolved absolute path of `requested`; BAD_USER_INPUT when unusable. */
export async function resolveMediaPath(requested: string, mediaRoots: readonly string[]): Promise<string> {
  if (typeof requested !== 'string' || requested.trim() === '') throw new BadInputError('path must not be empty');
  if (requested.includes('\0')) throw new BadInputError('path contains a NUL byte');
  const absolute = path.resolve(requested);
  const roots = await realRoots(mediaRoots);
  const outside = (): BadInputError =>
    new BadInputError(`path ${requested} is outside the media roots (VIDSEARCH_MEDIA_ROOTS)`, { path: requested });

  let real: string;
  try {
    real = await realpath(absolute);
  } catch {
    // Say "outside" rather than "missing" for paths outside the roots: existence there is not our business.
    const lexicallyInside = mediaRoots.some((root) => isInside(path.resolve(root), absolute)) || roots.some((root) => isInside(root, absolute));
    if (!lexicallyInside) throw outside();
    throw new BadInputError(`file ${requested} does not exist`, { path: requested });
  }
  if (!roots.some((root) => isInside(root, real))) throw outside();
  const info = await stat(real);
  if (!info.isFile()) throw new BadInputError(`path ${requested} is not a regular file`, { path: requested });
  return real;
}
