// Admission control for expensive GraphQL operations. Each kind (image search, ad matching, clip
// export, enrolment) has its own cap on calls running at once and a bounded FIFO line with a wait
// deadline; a call beyond the line or past the deadline is refused RATE_LIMITED (429, retryAfter)
// instead of piling up. Cheap operations never take a slot, so they keep flowing while expensive
// ones wait: a burst of image searches cannot starve text search.
import { HeaderMap } from '@apollo/server';
import { GraphQLError, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { Counter, Gauge } from 'prom-client';
import type { AdmissionConfig } from '../config.js';
import { metricsRegistry } from '../observability/metrics.js';

export type AdmissionKind = 'imageSearch' | 'adMatching' | 'clipExport' | 'enrolment';

/** Root fields whose work is heavy enough to need a slot (CNN/ORB, ffmpeg, face models, ad ranking). */
export const KIND_OF_ROOT_FIELD: Readonly<Record<string, AdmissionKind>> = {
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

  /** Resolves with the slot's release once one is free; rejects ServerBusyError when the line is full or the wait too long. */
  enter(): Promise<Release> {
    if (this.running < this.limits.concurrency) return Promise.resolve(this.take());
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

  private take(): Release {
    this.running += 1;
    const started = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.averageHoldMs += HOLD_AVERAGE_WEIGHT * (performance.now() - started - this.averageHoldMs);
      this.running -= 1;
      const next = this.line.shift();
      if (next) {
        clearTimeout(next.timer);
        next.admit(this.take());
      }
    };
  }

  private refuse(reason: RefusalReason): ServerBusyError {
    this.onRefusal(this.kind, reason);
    // Time for the line ahead to clear at the current pace, in whole seconds (at least 1).
    const aheadMs = ((this.line.length + 1) * this.averageHoldMs) / this.limits.concurrency;
    return new ServerBusyError(this.kind, reason, Math.max(1, Math.ceil(aheadMs / 1000)));
  }
}

export function gateLimitsFrom(config: AdmissionConfig): Record<AdmissionKind, GateLimits> {
  const limits = (concurrency: number): GateLimits => ({ concurrency, queue: config.queue, waitMs: config.waitSec * 1000 });
  return {
    imageSearch: limits(config.imageSearches),
    adMatching: limits(config.adMatches),
    clipExport: limits(config.clipExports),
    enrolment: limits(config.enrolments),
  };
}

/** Root field names of an operation, looking through fragments at the root. */
export function rootFieldNames(document: DocumentNode, operation: OperationDefinitionNode): string[] {
  const names: string[] = [];
  const visit = (set: SelectionSetNode, seenFragments: Set<string>): void => {
    for (const selection of set.selections) {
      if (selection.kind === 'Field') names.push(selection.name.value);
      else if (selection.kind === 'InlineFragment') visit(selection.selectionSet, seenFragments);
      else if (!seenFragments.has(selection.name.value)) {
        seenFragments.add(selection.name.value);
        const fragment = document.definitions.find((d) => d.kind === 'FragmentDefinition' && d.name.value === selection.name.value);
        if (fragment?.kind === 'FragmentDefinition') visit(fragment.selectionSet, seenFragments);
      }
    }
  };
  visit(operation.selectionSet, new Set());
  return names;
}

export class Admission {
  private readonly gates: Map<AdmissionKind, AdmissionGate>;

  constructor(limits: Record<AdmissionKind, GateLimits>) {
    this.gates = new Map(
      (Object.entries(limits) as [AdmissionKind, GateLimits][]).map(([kind, gateLimits]) => [kind, new AdmissionGate(kind, gateLimits, countRefusal)]),
    );
  }

  /**
   * Takes one slot of every expensive kind among the root fields (in a fixed order, so two
   * operations never hold each other's first slot) and returns one release for all of them.
   * Operations without expensive fields pass at once.
   */
  async admit(rootFields: readonly string[]): Promise<Release> {
    const kinds = [...new Set(rootFields.map((f) => KIND_OF_ROOT_FIELD[f]).filter((k): k is AdmissionKind => k !== undefined))].sort();
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

  /** Running and waiting calls per kind. */
  snapshot(): { kind: AdmissionKind; active: number; waiting: number }[] {
    return [...this.gates.values()].map((gate) => ({ kind: gate.kind, active: gate.active, waiting: gate.waiting }));
  }
}

// ---------------------------------------------------------------- /metrics

/** The admissions of the servers in this process, read at scrape time. */
const watched = new Set<Admission>();

function collectAdmission(gauge: Gauge<'kind'>, field: 'active' | 'waiting'): void {
  gauge.reset();
  const totals = new Map<AdmissionKind, number>();
  for (const admission of watched) for (const gate of admission.snapshot()) totals.set(gate.kind, (totals.get(gate.kind) ?? 0) + gate[field]);
  for (const [kind, value] of totals) gauge.set({ kind }, value);
}

export const admissionActive = new Gauge({
  name: 'vidsearch_admission_active',
  help: 'Expensive GraphQL operations running now, by kind',
  labelNames: ['kind'] as const,
  registers: [metricsRegistry],
  collect() {
    collectAdmission(this, 'active');
  },
});

export const admissionWaiting = new Gauge({
  name: 'vidsearch_admission_waiting',
  help: 'Expensive GraphQL operations waiting for a slot (admission queue depth), by kind',
  labelNames: ['kind'] as const,
  registers: [metricsRegistry],
  collect() {
    collectAdmission(this, 'waiting');
  },
});

const refusals = new Counter({
  name: 'vidsearch_admission_refused_total',
  help: 'Expensive GraphQL operations refused RATE_LIMITED by admission control, by kind and reason (queue-full, wait-timeout)',
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
