// Fits timeConfidence's moment model (calibration.ts MOMENT) from `eval --per-query` rows of the
// dev sets (look-alike/still, motion), on their fit halves only, and prints the report halves'
// reliability tables: timeConfidence under the fitted model (all report answers: it is the chance
// of the right video and moment) and similarity as the service answered it (the chance of the
// right video). Rows carry each top answer's similarity, localisation margin and stretch.
//   node dist/src/cli.js eval test/fixtures/image-search-lookalike.json --per-query rows.jsonl
//   node dist/bench/time-confidence-fit.js rows.jsonl [more-rows.jsonl …] [--bias-only]
import { readFile } from 'node:fs/promises';
import { calibratedTimeConfidence, MOMENT, MOMENT_STRETCH_CAP_SEC } from '../src/services/image-search/calibration.js';

interface Row {
  half: 'fit' | 'report' | null;
  mode: 'right' | 'wrongMoment' | 'wrongVideo' | 'noAnswer';
  similarity: number | null;
  stretchSec: number | null;
  momentMargin: number | null;
}

/** Localised answers of the right video: the model's features and whether the moment was right. */
function samples(rows: readonly Row[]): { features: number[]; right: number }[] {
  return rows.flatMap((r) => {
    if (r.mode === 'wrongVideo' || r.mode === 'noAnswer' || r.momentMargin === null || r.stretchSec === null) return [];
    return [{ features: [1, r.momentMargin, Math.min(r.stretchSec, MOMENT_STRETCH_CAP_SEC)], right: r.mode === 'right' ? 1 : 0 }];
  });
}

/** Logistic regression by Newton's method with a small ridge (the fit half has few wrong moments). */
function fitLogistic(x: readonly number[][], y: readonly number[], ridge = 0.01): number[] {
  const k = x[0]!.length;
  let w = new Array<number>(k).fill(0);
  for (let iteration = 0; iteration < 50; iteration++) {
    const gradient = w.map((wi) => -ridge * wi);
    const hessian = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? ridge : 0)));
    x.forEach((xi, n) => {
      const p = 1 / (1 + Math.exp(-xi.reduce((s, v, i) => s + v * w[i]!, 0)));
      xi.forEach((v, i) => {
        gradient[i]! += (y[n]! - p) * v;
        xi.forEach((u, j) => (hessian[i]![j]! += p * (1 - p) * v * u));
      });
    });
    w = w.map((wi, i) => wi + solve(hessian, gradient)[i]!);
  }
  return w;
}

/** Gaussian elimination (k ≤ 3). */
function solve(a: number[][], b: number[]): number[] {
  const m = a.map((row, i) => [...row, b[i]!]);
  const k = b.length;
  for (let c = 0; c < k; c++) {
    const pivot = m.reduce((best, row, r) => (r >= c && Math.abs(row[c]!) > Math.abs(m[best]![c]!) ? r : best), c);
    [m[c], m[pivot]] = [m[pivot]!, m[c]!];
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let j = c; j <= k; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row, i) => row[k]! / row[i]!);
}

const files = await Promise.all(process.argv.slice(2).filter((arg) => !arg.startsWith('--')).map((file) => readFile(file, 'utf8')));
const rows = files.flatMap((text) => text.trim().split('\n').map((line) => JSON.parse(line) as Row));
const fit = samples(rows.filter((r) => r.half === 'fit'));
/**
 * The intercept alone, the slopes kept (`--bias-only`): when the fit halves hold only a few wrong
 * moments, three parameters are not determined (a full refit turns a weight's sign), one is.
 */
function fitBias(x: readonly number[][], y: readonly number[], slopes: readonly number[]): number {
  let b = 0;
  for (let iteration = 0; iteration < 50; iteration++) {
    let gradient = -0.01 * b;
    let curvature = 0.01;
    x.forEach((xi, n) => {
      const p = 1 / (1 + Math.exp(-(b + xi.slice(1).reduce((sum, v, i) => sum + v * slopes[i]!, 0))));
      gradient += y[n]! - p;
      curvature += p * (1 - p);
    });
    b += gradient / curvature;
  }
  return b;
}
const [bias, perMargin, perStretchSec] = (
  process.argv.includes('--bias-only')
    ? [fitBias(fit.map((s) => s.features), fit.map((s) => s.right), [MOMENT.perMargin, MOMENT.perStretchSec]), MOMENT.perMargin, MOMENT.perStretchSec]
    : fitLogistic(fit.map((s) => s.features), fit.map((s) => s.right))
) as [number, number, number];
const round = (v: number) => Math.round(v * 100) / 100;
const moment = { bias: round(bias), perMargin: round(perMargin), perStretchSec: round(perStretchSec) };
/** The answer's timeConfidence under the fitted model. */
const confidence = (r: Row): number =>
  calibratedTimeConfidence(r.similarity!, r.momentMargin === null || r.stretchSec === null ? null : { margin: r.momentMargin, from: 0, to: r.stretchSec }, moment);
const report = rows.filter((r) => r.half === 'report' && r.similarity !== null);
/** Answers per confidence bin and how many of them were right. */
function reliability(confidence: (r: Row) => number, right: (r: Row) => boolean, bins: readonly number[]) {
  return bins.slice(0, -1).map((low, i) => {
    const inBin = report.filter((r) => confidence(r) >= low && confidence(r) < bins[i + 1]!);
    return { bin: `${low}-${Math.min(1, bins[i + 1]!)}`, answers: inBin.length, right: inBin.filter(right).length };
  });
}
const reportReliability = reliability(confidence, (r) => r.mode === 'right', [0, 0.5, 0.7, 0.8, 0.9, 1.0001]);
const similarityReliability = reliability((r) => r.similarity!, (r) => r.mode === 'right' || r.mode === 'wrongMoment', [0, 0.1, 0.7, 0.9, 1.0001]);
process.stdout.write(`${JSON.stringify({ fitSamples: fit.length, fitWrongMoments: fit.filter((s) => !s.right).length, moment, reportReliability, similarityReliability })}\n`);
