// What the primary of `vidsearch serve --workers N` (serve-cluster.ts) and the processes it forks
// (cluster-roles.ts) agree on: how a process learns its role, the messages it sends back, the
// image-search call timeouts. Light on purpose: the primary imports it and nothing heavier.
import type { Config } from '../config.js';

/** How the primary tells a forked process its part (environment of cluster.fork). */
export const ROLE_ENV = 'VIDSEARCH_CLUSTER_ROLE';
export const INDEX_ENV = 'VIDSEARCH_CLUSTER_INDEX';
export const SIZE_ENV = 'VIDSEARCH_CLUSTER_SIZE';
/** The role of the short-lived process that opens the store once (schema migrations) and exits. */
export const MIGRATE_ROLE = 'migrate';

/**
 * Longest image search the primary waits for beyond its wait in the admission line (which is in
 * the image-search process, see image-admission.ts), including waiting for an image-search
 * process that is being started again. The slowest query measured runs ~0.2 s alone, seconds under load.
 */
export const IMAGE_CALL_TIMEOUT_MS = 60_000;
/** The HTTP worker's own limit is longer by this, so the primary's answer (or its timeout error) comes first. */
export const IMAGE_CALL_WORKER_MARGIN_MS = 5_000;

/** How long the primary waits for an image-search call: the admission wait, then the search. */
export const imageCallTimeoutMs = (config: Config): number => config.admission.waitSec * 1000 + IMAGE_CALL_TIMEOUT_MS;

export interface ListeningMessage {
  vidsearchListening: string;
}

/** The image-search process answers calls from now on. */
export interface ImagesReadyMessage {
  vidsearchImagesReady: true;
}

export function isListening(message: unknown): message is ListeningMessage {
  return typeof message === 'object' && message !== null && typeof (message as ListeningMessage).vidsearchListening === 'string';
}

export function isImagesReady(message: unknown): message is ImagesReadyMessage {
  return typeof message === 'object' && message !== null && (message as ImagesReadyMessage).vidsearchImagesReady === true;
}

export interface ClusterServeOptions {
  port?: number;
  /** Also run indexing jobs (in a process of their own). */
  worker: boolean;
  /** Called in the primary once every worker is listening. */
  onServing?: () => void;
}
