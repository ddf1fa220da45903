// Admission gates: slots per kind, a FIFO line, refusal when the line is full or the wait too
// long (RATE_LIMITED with retryAfter), and root-field detection through fragments.
import { parse, type OperationDefinitionNode } from 'graphql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Admission, AdmissionGate, gateLimitsFrom, rootFieldWork, ServerBusyError, workerPart, type GateLimits, type Release } from '../../src/http/admission.js';

const limits = (overrides: Partial<GateLimits> = {}): GateLimits => ({ concurrency: 1, queue: 2, waitMs: 1000, ...overrides });

async function refusalOf(promise: Promise<unknown>): Promise<ServerBusyError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ServerBusyError) return err;
    throw err;
  }
  throw new Error('expected a ServerBusyError');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('AdmissionGate', () => {
  it('lets up to `concurrency` calls in and admits waiting calls first come, first served', async () => {
    const gate = new AdmissionGate('imageSearch', limits({ concurrency: 2, queue: 5 }));
    const first = await gate.enter();
    await gate.enter();
    const admitted: string[] = [];
    const third = gate.enter().then((release) => (admitted.push('third'), release));
    const fourth = gate.enter().then((release) => (admitted.push('fourth'), release));
    expect([gate.active, gate.waiting]).toEqual([2, 2]);
    first();
    await third;
    expect(admitted).toEqual(['third']);
    expect([gate.active, gate.waiting]).toEqual([2, 1]);
    (await third)();
    await fourth;
    expect(admitted).toEqual(['third', 'fourth']);
  });

  it('starts an admitted call on a later turn of the event loop, not in the turn that asked', async () => {
    const gate = new AdmissionGate('textSearch', limits({ concurrency: 4 }));
    let admitted = false;
    const entering = gate.enter().then((release) => ((admitted = true), release));
    // Every microtask of this turn runs first: a request never runs inside the callback that read it.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(admitted).toBe(false);
    expect(gate.active).toBe(1);
    (await entering)();
    expect(admitted).toBe(true);
  });

  it('refuses at once when the line is full, with the busy message, RATE_LIMITED and retryAfter', async () => {
    const refused: string[] = [];
    const gate = new AdmissionGate('adMatching', limits({ queue: 1 }), (kind, reason) => refused.push(`${kind}:${reason}`));
    await gate.enter();
    const waiting = gate.enter();
    const error = await refusalOf(gate.enter());
    expect(error.extensions).toMatchObject({ code: 'RATE_LIMITED', kind: 'adMatching' });
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(error.message).toMatch(/server is busy/);
    expect(error.reason).toBe('queue-full');
    expect(refused).toEqual(['adMatching:queue-full']);
    expect(gate.waiting).toBe(1);
    void waiting;
  });

  it('refuses a call that waited past the deadline and takes it out of the line', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const gate = new AdmissionGate('clipExport', limits({ waitMs: 500 }));
    const release = await gate.enter();
    const waiting = refusalOf(gate.enter());
    vi.advanceTimersByTime(499);
    expect(gate.waiting).toBe(1);
    vi.advanceTimersByTime(1);
    expect((await waiting).reason).toBe('wait-timeout');
    expect(gate.waiting).toBe(0);
    // The slot it never got stays with its holder, then frees normally.
    release();
    expect(gate.active).toBe(0);
  });

  it('hands a freed slot to the first in line, not to a caller arriving during the hand-over', async () => {
    const gate = new AdmissionGate('imageSearch', limits({ queue: 5 }));
    const release = await gate.enter();
    const admitted: string[] = [];
    const waiter = gate.enter().then((r) => (admitted.push('waiter'), r));
    release();
    const newcomer = gate.enter().then((r) => (admitted.push('newcomer'), r));
    (await waiter)();
    await newcomer;
    expect(admitted).toEqual(['waiter', 'newcomer']);
  });

  it('a release called twice frees one slot only', async () => {
    const gate = new AdmissionGate('enrolment', limits({ concurrency: 2 }));
    const release = await gate.enter();
    await gate.enter();
    release();
    release();
    expect(gate.active).toBe(1);
  });

  it('estimates retryAfter from how long calls hold their slot and how many wait', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const gate = new AdmissionGate('imageSearch', limits({ queue: 3, waitMs: 60_000 }));
    // Teach the average: calls that hold their slot 20 s.
    for (let i = 0; i < 30; i++) {
      const release = await gate.enter();
      vi.advanceTimersByTime(20_000);
      release();
    }
    await gate.enter();
    const line = [gate.enter(), gate.enter(), gate.enter()];
    const error = await refusalOf(gate.enter());
    // Three ahead plus itself, one slot, ~20 s each.
    expect(error.retryAfter).toBeGreaterThan(70);
    expect(error.retryAfter).toBeLessThanOrEqual(80);
    void line;
  });
});

describe('Admission', () => {
  const kinds = { standard: limits(), textSearch: limits(), imageSearch: limits(), adMatching: limits(), clipExport: limits(), enrolment: limits() };
  const activeOf = (admission: Admission): Record<string, number> => Object.fromEntries(admission.snapshot().map((g) => [g.kind, g.active]));

  it('cheap operations take a standard slot only; expensive ones take one of each of their kinds instead', async () => {
    const admission = new Admission(kinds);
    const cheap = await admission.admit(['video', 'videos']);
    expect(activeOf(admission)).toEqual({ standard: 1, textSearch: 0, imageSearch: 0, adMatching: 0, clipExport: 0, enrolment: 0 });
    cheap();
    const release = await admission.admit(['searchByImage', 'adBreaks', 'videos']);
    expect(activeOf(admission)).toEqual({ standard: 0, textSearch: 0, imageSearch: 1, adMatching: 1, clipExport: 0, enrolment: 0 });
    release();
    expect(admission.snapshot().every((g) => g.active === 0)).toBe(true);
  });

  it('gives back the slots it took when a later kind refuses', async () => {
    const admission = new Admission({ ...kinds, imageSearch: limits({ queue: 0 }) });
    const holder: Release = await admission.admit(['searchByImage']);
    await refusalOf(admission.admit(['matchAds', 'searchByImage']));
    expect(activeOf(admission)).toEqual({ standard: 0, textSearch: 0, imageSearch: 1, adMatching: 0, clipExport: 0, enrolment: 0 });
    holder();
  });

  it('takes no slot of a kind another process admits, nor a standard slot in its place', async () => {
    const admission = new Admission(kinds, ['imageSearch']);
    expect(admission.snapshot().map((g) => g.kind)).not.toContain('imageSearch');
    const image = await admission.admit(['searchByImage']);
    const hybrid = await admission.admit(['searchSegments', 'searchByImage']);
    expect(activeOf(admission)).toEqual({ standard: 0, textSearch: 1, adMatching: 0, clipExport: 0, enrolment: 0 });
    image();
    hybrid();
    expect(admission.snapshot().every((g) => g.active === 0)).toBe(true);
  });
});

describe('rootFieldWork', () => {
  it('finds root fields inside inline fragments and named fragments', () => {
    const document = parse('query { videos { totalCount } ... on Query { searchByImage(imageBase64: "x") { at } } ...Ads } fragment Ads on Query { matchAds(segmentId: "s") { score } }');
    const operation = document.definitions[0] as OperationDefinitionNode;
    expect(rootFieldWork(document, operation)).toEqual(['videos', 'searchByImage', 'matchAds']);
  });

  it('counts a text search given a picture as an image search too', () => {
    const work = (query: string, variables: Record<string, unknown> = {}): string[] => {
      const document = parse(query);
      return rootFieldWork(document, document.definitions[0] as OperationDefinitionNode, variables);
    };
    expect(work('{ searchSegments(query: "rain", imageBase64: "x") { totalCount } }')).toEqual(['searchSegments', 'searchByImage']);
    expect(work('query($f: Upload) { searchSegments(query: "rain", image: $f) { totalCount } }', { f: { name: 'a.jpg' } })).toEqual(['searchSegments', 'searchByImage']);
    expect(work('query($f: Upload) { searchSegments(query: "rain", image: $f) { totalCount } }', { f: null })).toEqual(['searchSegments']);
    expect(work('{ searchSegments(query: "rain", imageBase64: null) { totalCount } }')).toEqual(['searchSegments']);
  });
});

describe('admission shares of several serving workers', () => {
  it('splits each limit so the workers’ parts add up to it, the remainder to the lowest indexes', () => {
    for (const total of [0, 1, 5, 8, 1024]) {
      for (const size of [1, 2, 3, 7]) {
        const parts = Array.from({ length: size }, (_, index) => workerPart(total, { index, size }, 0));
        expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
        expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
        expect(parts).toEqual([...parts].sort((a, b) => b - a));
      }
    }
    expect(workerPart(7, undefined, 1)).toBe(7);
  });

  it('gives every worker at least one slot of each kind, and a queue part that may be empty', () => {
    const config = loadConfig({ VIDSEARCH_WORKERS: '3', VIDSEARCH_MAX_IMAGE_SEARCHES: '2', VIDSEARCH_ADMISSION_QUEUE: '4' });
    const parts = [0, 1, 2].map((index) => gateLimitsFrom(config.admission, { index, size: 3 }).imageSearch);
    expect(parts.map((p) => p.concurrency)).toEqual([1, 1, 1]);
    expect(parts.map((p) => p.queue)).toEqual([2, 1, 1]);
    // On the embedded store one text search per serving process by default (each has its own connection).
    expect(config.admission.textSearches).toBe(3);
    expect([0, 1, 2].map((index) => gateLimitsFrom(config.admission, { index, size: 3 }).textSearch.concurrency)).toEqual([1, 1, 1]);
  });
});
