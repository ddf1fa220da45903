// Who may call what (the API.md role table, in one place) and who the caller is.
import type { AuthChecker } from 'type-graphql';
import type { Role } from '../config.js';
import { AppError } from '../errors.js';

/** Roles allowed per kind of operation; resolvers use these with @Authorized(...). */
export const ACCESS = {
  /** Read queries: videos, video, segment, searchSegments, … */
  read: ['search', 'ads', 'editor'],
  /** Ads: matchAds, adBreaks, ads, upsertAd, deleteAd. */
  ads: ['ads', 'editor'],
  /** Editing and operations: jobs, indexVideo, cancelJob, deleteVideo, updateVideo, … */
  editor: ['editor'],
} as const satisfies Record<string, readonly Role[]>;

/** The caller's role from `Authorization: Bearer <key>`; everyone is an editor when no keys are configured. */
export function roleFromAuthorization(header: string | undefined, apiKeys: ReadonlyMap<string, Role>): Role | null {
  if (apiKeys.size === 0) return 'editor';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? (apiKeys.get(match[1]!) ?? null) : null;
}

/** Reads only the caller's role, so it needs nothing else of the request context. */
export const authChecker: AuthChecker<{ role: Role | null }, Role> = ({ context }, roles) => {
  if (context.role === null) {
    throw new AppError('UNAUTHENTICATED', 'a valid API key is required: send Authorization: Bearer <key>');
  }
  if (roles.length > 0 && !roles.includes(context.role)) {
    throw new AppError('FORBIDDEN', `the ${context.role} role may not do this (needs ${roles.join(' or ')})`, { role: context.role });
  }
  return true;
};
