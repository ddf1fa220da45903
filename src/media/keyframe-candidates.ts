// Shot keyframes out of the job's one decode, before the shots are known. The decode carries, per
// width the shot-aware stages ask for, the candidate frames (the first frame of every tick of the
// shot analysis rate: whichever tick becomes a keyframe, its frame is among them) and a copy of the
// shot analysis stream. A planner follows that stream and settles shot keyframes as the decode goes
// (the shots well behind the decode position). A candidate waits in memory until its keyframes are
// settled (the recent past: ~15 s of media); one that serves a settled keyframe goes to the spool
// folder, the others are dropped, so memory holds the recent past and the spool one frame per shot. A keyframe the final shots put where the planner did not (rare) is not served
// here: the caller seeks it on its own and counts that decode.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { servesTarget, type FrameRequest } from './decode-session.js';
import type { FrameChannel, TimedRecord } from './frame-channel.js';
import type { RawFrame } from './frames.js';

/** Follows the shot analysis frames in decode order and settles shot keyframes. */
export interface KeyframePlanner {
  /** The analysis stream it reads: the shots stage's own request. */
  readonly request: FrameRequest;
  /** Ticks per second at which keyframes can be picked (the analysis rate). */
  readonly perSec: number;
  /** Keyframe times settled by this frame, and the time before which every keyframe is settled. */
  add(frame: RawFrame): { keyframes: number[]; settledUntil: number };
}

/** One width's candidates: every candidate's time, and the spooled frames still kept. */
class CandidateWidth {
  readonly times: number[] = [];
  /** Candidates not decided yet, in memory; kept ones are spooled to `files`. */
  readonly undecided = new Map<number, Buffer>();
  readonly files = new Map<number, string>();
  decidedUpTo = 0;
  failed = false;

  constructor(
    /** The width asked for (the key), and the decoded frames' size. */
    readonly width: number,
    readonly size: { width: number; height: number },
  ) {}
}

export interface KeyframeCandidatesOptions {
  planner: KeyframePlanner;
  analysis: FrameChannel;
  analysisSize: { width: number; height: number };
  /** Candidate outputs by the width asked for, with their frames' size. */
  candidates: { channel: FrameChannel; width: number; size: { width: number; height: number } }[];
  startTime: number;
  spoolDir: string;
}

export class KeyframeCandidates {
  private readonly widths = new Map<number, CandidateWidth>();
  /** Settled keyframe times, ascending. */
  private readonly chosen: number[] = [];
  private settledUntil = 0;
  private readonly done: Promise<void>;
  /** Candidates kept (serving a keyframe, or never settled) and dropped, for the job's log. */
  readonly counts = { kept: 0, dropped: 0, served: 0, missed: 0 };

  constructor(private readonly opts: KeyframeCandidatesOptions) {
    const loops = opts.candidates.map(({ channel, width, size }) => {
      const state = new CandidateWidth(width, size);
      this.widths.set(width, state);
      return this.collect(state, channel);
    });
    this.done = Promise.all([this.plan(), ...loops]).then(() => undefined);
  }

  serves(width: number): boolean {
    return this.widths.has(width);
  }

  /** The candidate that is the first frame at or after `time`, or null when it was not kept. */
  async frameAt(time: number, width: number): Promise<RawFrame | null> {
    await this.done;
    const state = this.widths.get(width);
    if (!state || state.failed) return null;
    const index = firstAtOrAfter(state.times, time - 1e-4);
    const file = index < state.times.length ? state.files.get(index) ?? state.undecided.get(index) : undefined;
    const previous = index > 0 ? state.times[index - 1]! : null;
    if (!file || !servesTarget(time, state.times[index]!, previous, this.opts.planner.perSec, this.opts.startTime)) {
      this.counts.missed++;
      return null;
    }
    this.counts.served++;
    return { time: state.times[index]!, data: typeof file === 'string' ? readFileSync(file) : file, ...state.size };
  }

  private async plan(): Promise<void> {
    const { planner, analysis, analysisSize } = this.opts;
    try {
      for await (const record of analysis.consume()) {
        const settled = planner.add({ time: record.time, data: record.data, ...analysisSize });
        for (const t of settled.keyframes) this.chosen.splice(firstAtOrAfter(this.chosen, t), 0, t);
        this.settledUntil = settled.settledUntil;
        for (const state of this.widths.values()) this.decide(state);
      }
    } catch {
      // Without the analysis stream nothing more is settled: what is left stays kept.
    }
  }

  private async collect(state: CandidateWidth, channel: FrameChannel): Promise<void> {
    try {
      for await (const record of channel.consume()) this.spool(state, record);
    } catch {
      state.failed = true;
    }
  }

  private spool(state: CandidateWidth, record: TimedRecord): void {
    state.undecided.set(state.times.length, record.data);
    state.times.push(record.time);
    this.decide(state);
  }

  /** Drops the candidates whose every possible keyframe is settled and that serve none of them. */
  private decide(state: CandidateWidth): void {
    const { perSec } = this.opts.planner;
    for (; state.decidedUpTo < state.times.length; state.decidedUpTo++) {
      const i = state.decidedUpTo;
      const time = state.times[i]!;
      // A candidate serves targets up to its own time (plus the select's slack).
      if (time + 1e-3 >= this.settledUntil) return;
      const previous = i > 0 ? state.times[i - 1]! : null;
      const from = firstAtOrAfter(this.chosen, previous ?? Number.NEGATIVE_INFINITY);
      let serves = false;
      for (let k = from; k < this.chosen.length && this.chosen[k]! <= time + 1e-3 && !serves; k++) {
        serves = servesTarget(this.chosen[k]!, time, previous, perSec, this.opts.startTime);
      }
      const data = state.undecided.get(i)!;
      state.undecided.delete(i);
      if (serves) {
        this.counts.kept++;
        const file = path.join(this.opts.spoolDir, `keyframe-candidate-${state.width}-${i}.rgb`);
        writeFileSync(file, data);
        state.files.set(i, file);
        continue;
      }
      this.counts.dropped++;
    }
  }
}

/** Index of the first value ≥ `value` in an ascending array. */
function firstAtOrAfter(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
