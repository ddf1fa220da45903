// What every resolver gets: the services, the caller's role, this request's DataLoaders and the
// media URL signer.
import type { Role } from '../config.js';
import type { MediaUrlSigner } from '../http/media-urls.js';
import type { Services } from '../services/index.js';
import { roleFromAuthorization } from './auth.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface RequestContext {
  services: Services;
  /** null: no or unknown API key (only unauthenticated operations are allowed). */
  role: Role | null;
  loaders: Loaders;
  mediaUrls: MediaUrlSigner;
}

export interface ContextDeps {
  services: Services;
  apiKeys: ReadonlyMap<string, Role>;
  mediaUrls: MediaUrlSigner;
}

/** A fresh context per request (DataLoader caches must not outlive it). */
export function createRequestContext(deps: ContextDeps, authorization: string | undefined): RequestContext {
  return {
    services: deps.services,
    role: roleFromAuthorization(authorization, deps.apiKeys),
    loaders: createLoaders(deps.services),
    mediaUrls: deps.mediaUrls,
  };
}
