// Per-phase wall and CPU time of one query, for benches (a no-op unless the caller passes a sink).
// CPU is the whole process's (the CNN and ORB threads included): it is the phase's own only while
// one query runs at a time, as in the benches.
import type { ImageSearchPhase, PhaseTimings } from './types.js';

export interface PhaseClock {
  time<T>(phase: ImageSearchPhase, work: () => Promise<T>): Promise<T>;
  timeSync<T>(phase: ImageSearchPhase, work: () => T): T;
}

export function phaseClock(sink: PhaseTimings | undefined): PhaseClock {
  const add = (phase: ImageSearchPhase, start: number, cpuStart: NodeJS.CpuUsage) => {
    const entry = (sink![phase] ??= { ms: 0, cpuMs: 0, calls: 0 });
    const cpu = process.cpuUsage(cpuStart);
    entry.ms += performance.now() - start;
    entry.cpuMs += (cpu.user + cpu.system) / 1000;
    entry.calls += 1;
  };
  return {
    async time(phase, work) {
      if (!sink) return work();
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      try {
        return await work();
      } finally {
        add(phase, start, cpuStart);
      }
    },
    timeSync(phase, work) {
      if (!sink) return work();
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      try {
        return work();
      } finally {
        add(phase, start, cpuStart);
      }
    },
  };
}
