// Fits and measures MobileFace as a second opinion (src/indexers/face-second-opinion.ts) on one
// half of the harder presence set, from the vectors bench/face-embedder-candidates.ts --dump wrote
// (labelled video faces, enrolment templates plain + mirrored, both embedders). Per appearance (a
// labelled source or stranger in a shot, its faces pooled as one track) the shipped embedder is
// judged by the pipeline's own rules (face-identity.ts, open set and closed over each video's
// cast); appearances it leaves unknown and that are small get the second opinion.
//   node dist/bench/face-embedder-candidates.js --half fit --models <human-models>/models --dump fit.json
//   node dist/bench/face-second-opinion.js --vectors fit.json --fit     # leads of the candidates: choose the margin here
//   node dist/bench/face-second-opinion.js --vectors report.json        # the shipped constants, held out: run once
// (--margin M tries another margin: what the open set's best fit, 0.09, does held out).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { identifyTrack, weightedMeanSide, CAST_TRACK_IDENTITY_RULE, DEFAULT_TRACK_IDENTITY_RULE, type ActorScore } from '../src/indexers/face-identity.js';
import { galleryMean, CentredGallery, secondOpinionCandidate, CAST_SECOND_OPINION_RULE, type GalleryTemplate, type SecondOpinion } from '../src/indexers/face-second-opinion.js';
import { cosine } from '../src/indexers/face-tracking.js';

const SHIPPED = 'shipped faceplugin-512';
const MOBILE = 'human-models mobileface';
const MAX_FACES = CAST_TRACK_IDENTITY_RULE.maxFaces;

interface Row {
  set: 'face' | 'template' | 'cohort';
  actor: string;
  at: { video: string; shot: number; item: number; side: number; blur: boolean; pose: string } | null;
  [embedder: string]: unknown;
}

interface Appearance {
  key: string;
  truth: string;
  video: string;
  buckets: string[];
  side: number;
  shipped: Float32Array[];
  mobile: Float32Array[];
}

const vec = (row: Row, name: string): Float32Array => Float32Array.from(row[name] as number[]);

function templates(rows: readonly Row[], name: string): GalleryTemplate[] {
  return rows.filter((r) => r.set === 'template').flatMap((r) => [{ actorId: r.actor, vector: vec(r, name) }, { actorId: r.actor, vector: vec(r, `${name}:mirrored`) }]);
}

function appearancesOf(rows: readonly Row[]): Appearance[] {
  const groups = new Map<string, Appearance>();
  for (const r of rows) {
    if (r.set !== 'face' || !r.at) continue;
    const key = `${r.at.video}/${r.at.shot}/${r.at.item}`;
    const a = groups.get(key) ?? { key, truth: r.actor, video: r.at.video, buckets: [r.at.blur ? 'blurred' : 'sharp', r.at.pose, ...(r.at.video.includes('tiny-crowd') ? ['tiny-crowd'] : [])], side: 0, shipped: [], mobile: [] };
    a.shipped.push(vec(r, SHIPPED));
    a.mobile.push(vec(r, MOBILE));
    a.side += r.at.side;
    groups.set(key, a);
  }
  return [...groups.values()].map((a) => {
    const side = a.side / a.shipped.length;
    return { ...a, side, buckets: [...a.buckets, side < 30 ? '<30px' : side < 45 ? '30-45px' : side < 64 ? '45-64px' : '>=64px'] };
  });
}

type Scorer = (probe: Float32Array, among: ReadonlySet<string> | null) => ActorScore[];

/** Plain cosines (best template per actor), as the faces stage scores a face. */
function plainScorer(gallery: readonly GalleryTemplate[]): Scorer {
  const plain = new CentredGallery(gallery, new Float32Array(gallery[0]!.vector.length));
  return (probe, among) => plain.score(probe, among);
}

/**
 * Symmetric score normalisation (s-norm) against a stranger cohort: each score is z-normalised by
 * the probe's top-k similarities to the cohort and by the actor's top-k to the cohort, averaged.
 */
function sNormScorer(gallery: readonly GalleryTemplate[], cohort: readonly Float32Array[], k: number): Scorer {
  const plain = plainScorer(gallery);
  const stats = (xs: number[]): [number, number] => {
    const top = xs.sort((x, y) => y - x).slice(0, k);
    const mean = top.reduce((sum, x) => sum + x, 0) / top.length;
    return [mean, Math.sqrt(top.reduce((sum, x) => sum + (x - mean) ** 2, 0) / top.length) || 1e-3];
  };
  const perActor = new Map<string, number[]>();
  for (const c of cohort) for (const s of plain(c, null)) perActor.set(s.actorId, [...(perActor.get(s.actorId) ?? []), s.similarity]);
  const actorStats = new Map([...perActor].map(([actor, xs]) => [actor, stats(xs)]));
  return (probe, among) => {
    const [pm, ps] = stats(cohort.map((c) => cosine(c, probe)));
    const z = plain(probe, among).map((s) => {
      const [am, as] = actorStats.get(s.actorId)!;
      return { actorId: s.actorId, similarity: ((s.similarity - pm) / ps + (s.similarity - am) / as) / 2 };
    });
    return z.sort((a, b) => b.similarity - a.similarity);
  };
}

interface Judged {
  appearance: Appearance;
  shipped: string | null;
  /** The second opinion's best actor and lead (null: not asked — named already, large, or no runner-up). */
  candidate: SecondOpinion | null;
}

function judge(rows: readonly Row[], cast: boolean, second: Scorer): Judged[] {
  const shippedScorer = plainScorer(templates(rows, SHIPPED));
  const apps = appearancesOf(rows);
  const castOf = new Map<string, Set<string>>();
  for (const a of apps) castOf.set(a.video, new Set([...(castOf.get(a.video) ?? []), ...(a.truth === 'stranger' ? [] : [a.truth])]));
  return apps.map((appearance) => {
    const among = cast ? castOf.get(appearance.video)! : null;
    const sides = appearance.shipped.map(() => ({ quality: 1, side: appearance.side }));
    const shippedFaces = appearance.shipped.map((v) => ({ quality: 1, scores: shippedScorer(v, among) }));
    const shipped = identifyTrack(shippedFaces, weightedMeanSide(sides), cast ? CAST_TRACK_IDENTITY_RULE : DEFAULT_TRACK_IDENTITY_RULE);
    if (shipped) return { appearance, shipped: shipped.actorId, candidate: null };
    const scored = appearance.mobile.map((v) => ({ quality: 1, scores: second(v, among) }));
    return { appearance, shipped: null, candidate: secondOpinionCandidate(scored, appearance.side, CAST_SECOND_OPINION_RULE) };
  });
}

interface FusionRule {
  threshold: number;
  margin: number;
}

/** For printing: rounded, and "none" for a rule without a threshold. */
const shown = (rule: FusionRule): { threshold: number | 'none'; margin: number } => ({ threshold: Number.isFinite(rule.threshold) ? Number(rule.threshold.toFixed(3)) : 'none', margin: Number(rule.margin.toFixed(3)) });

const secondName = (j: Judged, rule: FusionRule): string | null => (j.candidate && j.candidate.similarity >= rule.threshold && j.candidate.lead >= rule.margin ? j.candidate.actorId : null);

function report(judged: readonly Judged[], rule: FusionRule): Record<string, unknown> {
  const buckets = new Map<string, { base: number; fused: number; total: number }>();
  let wrongBase = 0;
  let wrongFused = 0;
  for (const j of judged) {
    const fused = j.shipped ?? secondName(j, rule);
    if (j.shipped && j.shipped !== j.appearance.truth) wrongBase++;
    if (fused && fused !== j.appearance.truth) wrongFused++;
    if (j.appearance.truth === 'stranger') continue;
    for (const b of ['all', ...j.appearance.buckets]) {
      const c = buckets.get(b) ?? { base: 0, fused: 0, total: 0 };
      c.base += j.shipped === j.appearance.truth ? 1 : 0;
      c.fused += fused === j.appearance.truth ? 1 : 0;
      c.total++;
      buckets.set(b, c);
    }
  }
  return { ...shown(rule), wrongBase, wrongFused, found: Object.fromEntries([...buckets].map(([k, c]) => [k, `${c.base} -> ${c.fused} of ${c.total}`])) };
}

/** Most appearances gained with no wrong name added, over thresholds × margins of the candidates' own values (a fit). */
function bestRule(judged: readonly Judged[]): FusionRule & { gained: number } {
  const asked = judged.filter((j) => j.candidate);
  let best = { threshold: Number.NEGATIVE_INFINITY, margin: Number.POSITIVE_INFINITY, gained: 0 };
  for (const threshold of [Number.NEGATIVE_INFINITY, ...asked.map((j) => j.candidate!.similarity)]) {
    for (const margin of [0, ...asked.map((j) => j.candidate!.lead)]) {
      const named = asked.filter((j) => secondName(j, { threshold, margin }));
      const right = named.filter((j) => j.candidate!.actorId === j.appearance.truth).length;
      if (right === named.length && right > best.gained) best = { threshold, margin, gained: right };
    }
  }
  return best;
}

/** The normalisations compared (fit half): plain, gallery- and cohort-mean-centred, s-norm. */
function normalisations(rows: readonly Row[]): [string, Scorer][] {
  const gallery = templates(rows, MOBILE);
  const cohort = rows.filter((r) => r.set === 'cohort').map((r) => vec(r, MOBILE));
  const byCohortMean = new CentredGallery(gallery, galleryMean(cohort));
  const byGalleryMean = new CentredGallery(gallery);
  return [
    ['plain', plainScorer(gallery)],
    ['gallery-centred', (p, among) => byGalleryMean.score(p, among)],
    ['cohort-centred', (p, among) => byCohortMean.score(p, among)],
    ['s-norm top-20', sNormScorer(gallery, cohort, 20)],
    ['s-norm all', sNormScorer(gallery, cohort, cohort.length)],
  ];
}

/**
 * Faces MobileFace would embed (≤ 12 per track, as the stage scores them): only tracks asked, or
 * every small track (if it must embed before the shipped decision), against all faces embedded.
 */
function embeddingCounts(judged: readonly Judged[]): { asked: number; small: number; all: number } {
  const count = (list: readonly Judged[]): number => list.reduce((n, j) => n + Math.min(MAX_FACES, j.appearance.mobile.length), 0);
  return { asked: count(judged.filter((j) => j.candidate)), small: count(judged.filter((j) => j.appearance.side < CAST_SECOND_OPINION_RULE.maxSidePx)), all: count(judged) };
}

function main(): void {
  const { values } = parseArgs({ options: { vectors: { type: 'string' }, fit: { type: 'boolean', default: false }, margin: { type: 'string' } } });
  if (!values.vectors) throw new Error('--vectors <dump.json from face-embedder-candidates.js --dump> is required');
  const rows = JSON.parse(readFileSync(values.vectors, 'utf8')) as Row[];
  const rule = { threshold: Number.NEGATIVE_INFINITY, margin: values.margin ? Number(values.margin) : CAST_SECOND_OPINION_RULE.margin };
  const [, chosen] = normalisations(rows)[1]!; // gallery-centred: the one the rule was fitted for
  for (const cast of [false, true]) {
    if (values.fit) {
      for (const [name, scorer] of normalisations(rows)) console.log(JSON.stringify({ cast, normalisation: name, bestRule: ((r) => ({ ...shown(r), gained: r.gained }))(bestRule(judge(rows, cast, scorer))) }));
      // The shipped normalisation's candidates by lead, highest first: the margin goes between the highest wrong one and the next right one above it.
      const asked = judge(rows, cast, chosen).filter((j) => j.candidate).sort((a, b) => b.candidate!.lead - a.candidate!.lead);
      console.log(JSON.stringify({ cast, leads: asked.map((j) => `${j.candidate!.actorId === j.appearance.truth ? 'right' : 'WRONG'} ${j.candidate!.lead.toFixed(3)} ${j.appearance.key}`) }));
    }
    // The rule is fitted for the closed set only; the open-set line shows what the margin would do there.
    const judged = judge(rows, cast, chosen);
    console.log(JSON.stringify({ cast, ...report(judged, rule), embeddings: embeddingCounts(judged) }));
  }
}

main();
