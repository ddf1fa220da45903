// The fixed speaker split of the background speech (../shared/data/speech_background, laid out as
// <lang>_<corpus>/<speaker>/<files>). No speaker is in two parts:
//   - train: trains the UBM and the centring vector, and is the score-normalisation cohort;
//   - calibration: never-enrolled voices on which the thresholds are fitted (enrolled against
//     each other: genuine and impostor trials of several speech durations);
//   - strangers: held out from everything above; they are only ever unknown queries in the
//     stranger eval manifest (test/fixtures/speakers-strangers.json).
// Rule: within each corpus folder the speakers are ordered by the sha256 of "<corpus>/<speaker>",
// then all speakers, corpus by corpus (folders in name order), are dealt in turn to
// train, calibration, train, strangers — about half, a quarter and a quarter, every corpus and
// both languages spread over the parts. The result is checked in as background-split.json.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export type BackgroundPart = 'train' | 'calibration' | 'strangers';
const DEAL_ORDER: readonly BackgroundPart[] = ['train', 'calibration', 'train', 'strangers'];
const AUDIO = /\.(wav|flac|mp3|ogg|m4a)$/i;

export interface BackgroundSpeaker {
  /** "<corpus folder>/<speaker folder>", e.g. "en_vctk/p225". */
  id: string;
  /** Audio files relative to the background root, in name order. */
  files: string[];
}

export type BackgroundSplit = Record<BackgroundPart, BackgroundSpeaker[]>;

export function listBackgroundSpeakers(root: string): BackgroundSpeaker[] {
  const speakers: BackgroundSpeaker[] = [];
  const dirs = (dir: string): string[] => readdirSync(dir).filter((name) => statSync(path.join(dir, name)).isDirectory()).sort();
  for (const corpus of dirs(root)) {
    for (const speaker of dirs(path.join(root, corpus))) {
      const files = readdirSync(path.join(root, corpus, speaker)).filter((f) => AUDIO.test(f)).sort();
      if (files.length) speakers.push({ id: `${corpus}/${speaker}`, files: files.map((f) => `${corpus}/${speaker}/${f}`) });
    }
  }
  return speakers;
}

const hashOf = (id: string): string => createHash('sha256').update(id).digest('hex');

export function splitBackgroundSpeakers(speakers: readonly BackgroundSpeaker[]): BackgroundSplit {
  const byCorpus = new Map<string, BackgroundSpeaker[]>();
  for (const s of speakers) {
    const corpus = s.id.split('/')[0]!;
    byCorpus.set(corpus, [...(byCorpus.get(corpus) ?? []), s]);
  }
  const split: BackgroundSplit = { train: [], calibration: [], strangers: [] };
  let dealt = 0;
  for (const corpus of [...byCorpus.keys()].sort()) {
    const ordered = [...byCorpus.get(corpus)!].sort((a, b) => hashOf(a.id).localeCompare(hashOf(b.id)));
    for (const speaker of ordered) split[DEAL_ORDER[dealt++ % DEAL_ORDER.length]!].push(speaker);
  }
  return split;
}
