// Per-phase wall time of one query, for benches (a no-op unless the caller passes a sink).
import type { ImageSearchPhase, PhaseTimings } from './types.js';

export interface PhaseClock {
  time<T>(phase: ImageSearchPhase, work: () => Promise<T>): Promise<T>;
  timeSync<T>(phase: ImageSearchPhase, work: () => T): T;
}

export function phaseClock(sink: PhaseTimings | undefined): PhaseClock {
  const add = (phase: ImageSearchPhase, start: number) => {
    const entry = (sink![phase] ??= { ms: 0, calls: 0 });
    entry.ms += performance.now() - start;
    entry.calls += 1;
  };
  return {
    async time(phase, work) {
      if (!sink) return work();
      const start = performance.now();
      try {
        return await work();
      } finally {
        add(phase, start);
      }
    },
    timeSync(phase, work) {
      if (!sink) return work();
      const start = performance.now();
      try {
        return work();
      } finally {
        add(phase, start);
      }
    },
  };
}
