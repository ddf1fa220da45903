// What waits for what among a job's stages, from their declarations alone: the order check, the
// stages each one waits for before it starts, which stages take one of the job's stage slots, and
// which ready stage a free slot goes to (the one with the heaviest chain of stages behind it).
import { AppError } from '../errors.js';
import type { Stage } from './stage.js';

/** What the ordering reads of a stage. */
export type StageDeclaration = Pick<Stage<never, unknown>, 'name' | 'weight' | 'needs' | 'after' | 'awaits' | 'awaitsAfter'>;

/** What a stage needs, started or not: its `needs` and `awaits`. */
export function allNeeds(stage: StageDeclaration): string[] {
  return [...(stage.needs ?? []), ...(stage.awaits ?? [])];
}

/** Throws when a stage is listed before a stage it `needs`, `awaits` or runs `after` (or needs one that is not listed). */
export function checkStageOrder(stages: readonly StageDeclaration[]): void {
  const seen = new Set<string>();
  const listed = new Set(stages.map((s) => s.name));
  for (const stage of stages) {
    for (const need of allNeeds(stage)) {
      if (!seen.has(need)) throw new AppError('INTERNAL_SERVER_ERROR', `stage ${stage.name} needs ${need}, which does not run before it`);
    }
    for (const before of [...(stage.after ?? []), ...(stage.awaitsAfter ?? [])]) {
      if (listed.has(before) && !seen.has(before)) throw new AppError('INTERNAL_SERVER_ERROR', `stage ${stage.name} runs after ${before}, which is listed after it`);
    }
    seen.add(stage.name);
  }
}

/**
 * The stages each one waits for before it starts: its `needs` (not its `awaits`) and the chosen
 * ones of its `after`; a stage that declares neither waits for every stage listed before it (the
 * order alone was its contract).
 */
export function stagePrerequisites(stages: readonly StageDeclaration[]): Map<string, string[]> {
  const listed = new Set(stages.map((s) => s.name));
  return new Map(
    stages.map((stage, i) => {
      if (stage.needs === undefined && stage.after === undefined) return [stage.name, stages.slice(0, i).map((s) => s.name)];
      return [stage.name, [...(stage.needs ?? []), ...(stage.after ?? []).filter((name) => listed.has(name))]];
    }),
  );
}

/**
 * Each stage's claim on a free slot: its weight plus the heaviest chain of stages waiting for it
 * (before they start or inside their run), so what holds up the most work starts first — objects,
 * which scenes and highlights wait for, before fingerprints. Weights are the stages' relative costs.
 */
export function criticalPathWeights(stages: readonly StageDeclaration[]): Map<string, number> {
  const prerequisites = stagePrerequisites(stages);
  const weights = new Map<string, number>();
  // Listed order puts every stage after what it waits for: dependents are scored first.
  for (const stage of [...stages].reverse()) {
    const waiting = stages.filter((s) => [...prerequisites.get(s.name)!, ...(s.awaits ?? []), ...(s.awaitsAfter ?? [])].includes(stage.name));
    weights.set(stage.name, stage.weight + Math.max(0, ...waiting.map((s) => weights.get(s.name)!)));
  }
  return weights;
}

/** A stage that waits inside its run starts early beside the others and takes no stage slot. */
export function takesSlot(stage: StageDeclaration): boolean {
  return !stage.awaits?.length && !stage.awaitsAfter?.length;
}
