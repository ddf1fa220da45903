// Admission control for GraphQL operations. Each expensive kind (text search, image search, ad
// matching, clip export, enrolment) has its own cap on calls running at once and a bounded FIFO
// line with a wait deadline; a call beyond the line or past the deadline is refused RATE_LIMITED
// (429, retryAfter) instead of piling up. Every other operation takes a 'standard' slot, never an
// expensive one, so cheap queries keep flowing while searches wait.
// Every admitted call starts on a later turn of the event loop, never inside the callback that
// read its request: the embedded store answers synchronously, so a request would otherwise run
// from socket read to response in one go, and a poll phase with 64 readable sockets ran 64
// searches back to back (~1 s at 1M segments) before Node read another socket or accepted a
// connection (libuv accepts one per turn), so new clients waited tens of seconds. Parked instead,
// a turn holds at most each kind's cap of calls.
import { HeaderMap } from '@apollo/server';
import { GraphQLError, type DocumentNode, type FieldNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { Counter, Gauge } from 'prom-client';
import type { AdmissionConfig } from '../config.js';
import { metricsRegistry } from '../observability/metrics.js';

export type AdmissionKind = 'standard' | 'textSearch' | 'imageSearch' | 'adMatching' | 'clipExport' | 'enrolment';

/** Root fields whose work is heavy enough to need a slot of their own (FTS ranking, CNN/ORB, ffmpeg, face models, ad ranking). */
export const KIND_OF_ROOT_FIELD: Readonly<Record<string, AdmissionKind>> = {
  searchSegments: 'textSearch',
  searchByImage: 'imageSearch',
  matchAds: 'adMatching',
  // One ad ranking per break, up to 100 breaks: the same work as matchAds, many times.
  adBreaks: 'adMatching',
  exportClip: 'clipExport',
  enrollActor: 'enrolment',
};

export interface GateLimits {
  /** Calls of this kind running at once. */
  concurrency: number;
  /** Calls that may wait for a slot; one more is refused at once. */
  queue: number;
  /** Longest wait for a slot before the call is refused. */
  waitMs: number;
}

export type RefusalReason = 'queue-full' | 'wait-timeout';

export class ServerBusyError extends GraphQLError {
  constructor(
    readonly kind: AdmissionKind,
    readonly reason: RefusalReason,
    readonly retryAfter: number,
  ) {
    super(`the server is busy with other ${kind} requests: retry in ${retryAfter} s`, {
      extensions: { code: 'RATE_LIMITED', retryAfter, kind, http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfter)]]) } },
    });
  }
}

/** Frees a slot; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  admit(release: Release): void;
  timer: NodeJS.Timeout;
}

/** Weight of the newest hold time in the running average used to estimate retryAfter. */
const HOLD_AVERAGE_WEIGHT = 0.2;

/** One kind's slots and its waiting line. */
export class AdmissionGate {
  private running = 0;
  private readonly line: Waiter[] = [];
  /** Running average of how long a call holds its slot, for retryAfter. */
  private averageHoldMs = 1000;

  constructor(
    readonly kind: AdmissionKind,
    private readonly limits: GateLimits,
    private readonly onRefusal: (kind: AdmissionKind, reason: RefusalReason) => void = () => {},
  ) {}

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.line.length;
  }

  get slots(): number {
    return this.limits.concurrency;
  }

  get queueLimit(): number {
    return this.limits.queue;
  }

  /** Resolves with the slot's release once one is free (on a later turn); rejects ServerBusyError when the line is full or the wait too long. */
  enter(): Promise<Release> {
    if (this.running < this.limits.concurrency) {
      this.running += 1;
      return new Promise((resolve) => setImmediate(() => resolve(this.slotRelease())));
    }
    if (this.line.length >= this.limits.queue) return Promise.reject(this.refuse('queue-full'));
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        admit: resolve,
        timer: setTimeout(() => {
          this.line.splice(this.line.indexOf(waiter), 1);
          reject(this.refuse('wait-timeout'));
        }, this.limits.waitMs),
      };
      this.line.push(waiter);
    });
  }

  private slotRelease(): Release {
    const started = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.averageHoldMs += HOLD_AVERAGE_WEIGHT * (performance.now() - started - this.averageHoldMs);
      const next = this.line.shift();
      if (!next) {
        this.running -= 1;
        return;
      }
      clearTimeout(next.timer);
      // The slot passes straight to the next in line (no newcomer can take it), on the next turn.
      setImmediate(() => next.admit(this.slotRelease()));
    };
  }

  private refuse(reason: RefusalReason): ServerBusyError {
    this.onRefusal(this.kind, reason);
    // Time for the line ahead to clear at the current pace, in whole seconds (at least 1).
    const aheadMs = ((this.line.length + 1) * this.averageHoldMs) / this.limits.concurrency;
    return new ServerBusyError(this.kind, reason, Math.max(1, Math.ceil(aheadMs / 1000)));
  }
}

/** Which of several serving processes this is (src/commands/serve-cluster.ts). */
export interface WorkerShare {
  /** 0 … size-1; a replacement keeps the index of the worker it replaces. */
  index: number;
  size: number;
}

/**
 * This worker's part of a server-wide limit: the parts of all workers add up to `total` (the
 * remainder goes to the lowest indexes), but never below `atLeast` (a worker without a slot of a
 * kind could never answer it, so a concurrency below the worker count is raised to one each).
 * Per-worker parts instead of one shared counter: a shared slot could go to a busy worker while
 * another idles, and the embedded store's queries are synchronous, so slots only help on the
 * process that holds them. Connections are spread round-robin, so parts fill evenly.
 */
export function workerPart(total: number, share: WorkerShare | undefined, atLeast: number): number {
  if (!share) return total;
  const part = Math.floor(total / share.size) + (share.index < total % share.size ? 1 : 0);
  return Math.max(atLeast, part);
}

export function gateLimitsFrom(config: AdmissionConfig, share?: WorkerShare): Record<AdmissionKind, GateLimits> {
  const waitMs = config.waitSec * 1000;
  // Requests that carry pictures (up to the body limit each) wait in a shorter line than queries.
  const limits = (concurrency: number, queue: number): GateLimits => ({ concurrency: workerPart(concurrency, share, 1), queue: workerPart(queue, share, 0), waitMs });
  const query = (concurrency: number): GateLimits => limits(concurrency, config.queryQueue);
  const media = (concurrency: number): GateLimits => limits(concurrency, config.mediaQueue);
  return {
    standard: query(config.standard),
    textSearch: query(config.textSearches),
    adMatching: query(config.adMatches),
    imageSearch: media(config.imageSearches),
    clipExport: media(config.clipExports),
    enrolment: media(config.enrolments),
  };
}

/** Arguments that make a root field run an image search first (hybrid searchSegments). */
const PICTURE_ARGUMENTS = new Set(['image', 'imageBase64']);

function carriesPicture(field: FieldNode, variables: Readonly<Record<string, unknown>>): boolean {
  return (field.arguments ?? []).some((arg) => {
    if (!PICTURE_ARGUMENTS.has(arg.name.value)) return false;
    if (arg.value.kind === 'NullValue') return false;
    if (arg.value.kind === 'Variable') return variables[arg.value.name.value] != null;
    return true;
  });
}

/**
 * The work an operation asks for, as root field names (looking through fragments at the root);
 * a field given a picture also counts as a searchByImage, whose work it does.
 */
export function rootFieldWork(document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> = {}): string[] {
  const names: string[] = [];
  const visit = (set: SelectionSetNode, seenFragments: Set<string>): void => {
    for (const selection of set.selections) {
      if (selection.kind === 'Field') {
        names.push(selection.name.value);
        if (carriesPicture(selection, variables)) names.push('searchByImage');
      } else if (selection.kind === 'InlineFragment') visit(selection.selectionSet, seenFragments);
      else if (!seenFragments.has(selection.name.value)) {
        seenFragments.add(selection.name.value);
        const fragment = document.definitions.find((d) => d.kind === 'FragmentDefinition' && d.name.value === selection.name.value);
        if (fragment?.kind === 'FragmentDefinition') visit(fragment.selectionSet, seenFragments);
      }
    }
  };
  visit(operation.selectionSet, new Set());
  return [...new Set(names)];
}

export interface GateSnapshot {
  kind: AdmissionKind;
  active: number;
  waiting: number;
  slots: number;
  queueLimit: number;
}

export class Admission {
  private readonly gates: Map<AdmissionKind, AdmissionGate>;

  /**
   * @param limits the gates this process keeps, by kind.
   * @param elsewhere kinds another process admits where their work runs (the image-search process
   *   of `serve --workers N`, one line for every worker): this one takes no slot for them.
   */
  constructor(limits: Partial<Record<AdmissionKind, GateLimits>>, elsewhere: readonly AdmissionKind[] = []) {
    this.gates = new Map(
      (Object.entries(limits) as [AdmissionKind, GateLimits][])
        .filter(([kind]) => !elsewhere.includes(kind))
        .map(([kind, gateLimits]) => [kind, new AdmissionGate(kind, gateLimits, countRefusal)]),
    );
  }

  /**
   * Takes one slot of every expensive kind among the root fields that this process admits (in a
   * fixed order, so two operations never hold each other's first slot), or a standard slot when
   * the operation asks for no expensive work, and returns one release for all of them.
   */
  async admit(rootFields: readonly string[]): Promise<Release> {
    const expensive = [...new Set(rootFields.map((f) => KIND_OF_ROOT_FIELD[f]).filter((k): k is AdmissionKind => k !== undefined))].sort();
    const kinds: AdmissionKind[] = expensive.length ? expensive.filter((kind) => this.gates.has(kind)) : ['standard'];
    const releases: Release[] = [];
    try {
      for (const kind of kinds) releases.push(await this.gates.get(kind)!.enter());
    } catch (err) {
      for (const release of releases) release();
      throw err;
    }
    return () => {
      for (const release of releases) release();
    };
  }

  /** Running and waiting calls per kind, and the limits on them. */
  snapshot(): GateSnapshot[] {
    return [...this.gates.values()].map((gate) => ({ kind: gate.kind, active: gate.active, waiting: gate.waiting, slots: gate.slots, queueLimit: gate.queueLimit }));
  }
}

// ---------------------------------------------------------------- /metrics

/** The admissions of the servers in this process, read at scrape time. */
const watched = new Set<Admission>();

function collectAdmission(gauge: Gauge<'kind'>, field: Exclude<keyof GateSnapshot, 'kind'>): void {
  gauge.reset();
  const totals = new Map<AdmissionKind, number>();
  for (const admission of watched) for (const gate of admission.snapshot()) totals.set(gate.kind, (totals.get(gate.kind) ?? 0) + gate[field]);
  for (const [kind, value] of totals) gauge.set({ kind }, value);
}

/** A gauge by kind of one snapshot field, summed over the watched admissions at scrape time. */
function admissionGauge(name: string, help: string, field: Exclude<keyof GateSnapshot, 'kind'>): Gauge<'kind'> {
  return new Gauge({
    name,
    help,
    labelNames: ['kind'] as const,
    registers: [metricsRegistry],
    collect() {
      collectAdmission(this, field);
    },
  });
}

export const admissionActive = admissionGauge('vidsearch_admission_active', 'GraphQL operations running now, by admission kind (standard or an expensive kind)', 'active');
export const admissionWaiting = admissionGauge('vidsearch_admission_waiting', 'GraphQL operations waiting for a slot (admission queue depth), by kind', 'waiting');
// With several serving processes, /metrics sums these over all of them (src/commands/serve-cluster.ts):
// the sums are the server-wide limits.
export const admissionSlots = admissionGauge('vidsearch_admission_slots', 'GraphQL operations that may run at once, by admission kind', 'slots');
export const admissionQueueLimit = admissionGauge(
  'vidsearch_admission_queue_limit',
  'GraphQL operations that may wait for a slot before the next is refused, by admission kind',
  'queueLimit',
);

const refusals = new Counter({
  name: 'vidsearch_admission_refused_total',
  help: 'GraphQL operations refused RATE_LIMITED by admission control, by kind and reason (queue-full, wait-timeout)',
  labelNames: ['kind', 'reason'] as const,
  registers: [metricsRegistry],
});

function countRefusal(kind: AdmissionKind, reason: RefusalReason): void {
  refusals.inc({ kind, reason });
}

/** Reports this admission's gauges at /metrics; returns the undo. */
export function watchAdmission(admission: Admission): () => void {
  watched.add(admission);
  return () => {
    watched.delete(admission);
  };
}
