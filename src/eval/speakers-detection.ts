// Verification metrics of the speakers eval, beside EVAL.md's identification metrics: every query
// against every enrolled identity is one trial (genuine when it is the query's own identity,
// impostor otherwise), scored as its margin over the threshold for the query's speech duration —
// so FAR and FRR "at the threshold" are the rates at margin 0 — plus the equal error rate and the
// accuracy per band of seconds of speech.
import { equalErrorRate, ratesAt } from '../models/voice/det.js';

export interface QueryTrials {
  expected: string | null;
  answer: string | null;
  /** Seconds of speech the VAD found in the query (0: none). */
  speechSec: number;
  /** Each enrolled identity near the query: its score minus the query's threshold. */
  margins: { identity: string | null; margin: number }[];
}

/** Bands of seconds of speech: [from, to). Queries without enough speech fall in the first. */
const SPEECH_BANDS: readonly [number, number][] = [
  [0, 1],
  [1, 2],
  [2, 3],
  [3, 5],
  [5, Infinity],
];

const round = (v: number): number => Math.round(v * 10_000) / 10_000;
const label = ([from, to]: [number, number]): string => (to === Infinity ? `${from}s+` : `${from}-${to}s`);

function accuracyByBand(results: readonly QueryTrials[]): Record<string, { known: number; knownAccuracy: number | null; unknown: number; falseAccepts: number }> {
  const out: Record<string, { known: number; knownAccuracy: number | null; unknown: number; falseAccepts: number }> = {};
  for (const band of SPEECH_BANDS) {
    const inBand = results.filter((r) => r.speechSec >= band[0] && r.speechSec < band[1]);
    if (inBand.length === 0) continue;
    const known = inBand.filter((r) => r.expected !== null);
    const unknown = inBand.filter((r) => r.expected === null);
    out[label(band)] = {
      known: known.length,
      knownAccuracy: known.length ? round(known.filter((r) => r.answer === r.expected).length / known.length) : null,
      unknown: unknown.length,
      falseAccepts: unknown.filter((r) => r.answer !== null).length,
    };
  }
  return out;
}

export function detectionMetrics(results: readonly QueryTrials[]): {
  falseAcceptRate: number | null;
  trials: { genuine: number; impostor: number; farAtThreshold: number | null; frrAtThreshold: number | null; eer: number | null };
  bySpeechSec: ReturnType<typeof accuracyByBand>;
} {
  const genuine: number[] = [];
  const impostor: number[] = [];
  for (const r of results) {
    for (const m of r.margins) (m.identity !== null && m.identity === r.expected ? genuine : impostor).push(m.margin);
  }
  const unknown = results.filter((r) => r.expected === null);
  const both = genuine.length > 0 && impostor.length > 0;
  const atThreshold = both ? ratesAt(genuine, impostor, 0) : null;
  return {
    falseAcceptRate: unknown.length ? round(unknown.filter((r) => r.answer !== null).length / unknown.length) : null,
    trials: {
      genuine: genuine.length,
      impostor: impostor.length,
      farAtThreshold: atThreshold ? round(atThreshold.far) : null,
      frrAtThreshold: atThreshold ? round(atThreshold.frr) : null,
      eer: both ? round(equalErrorRate(genuine, impostor).eer) : null,
    },
    bySpeechSec: accuracyByBand(results),
  };
}
