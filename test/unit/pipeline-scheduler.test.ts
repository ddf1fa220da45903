// The stage scheduler: independent stages run side by side (up to stageConcurrency), a stage starts
// only after what it `needs` and the chosen stages it runs `after`, stages that declare neither keep
// the listed order, stages that wait inside their run start early outside the slots, a free slot
// goes to the heaviest chain of stages behind it, an essential failure stops the stages running
// beside it, and a resumed job reloads its checkpoints instead of running those stages again.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { JobRecord } from '../../src/domain.js';
import { runIndexPipeline, type PipelineStage } from '../../src/indexers/pipeline.js';
import type { StageContext } from '../../src/indexers/stage.js';
import { criticalPathWeights, stagePrerequisites } from '../../src/indexers/stage-order.js';
import { createLogger } from '../../src/logger.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { claimedJobFor } from '../helpers/pipeline-job.js';

let dir: string;
let store: Store;
let config: Config;
let events: string[];

/** A stage that logs its start, does `work`, then logs `${name}:${last}`. */
function logged(name: string, deps: Partial<PipelineStage>, last: string, work: (ctx: StageContext) => Promise<void>): PipelineStage {
  return {
    name,
    weight: 1,
    ...deps,
    run: async (ctx) => {
      events.push(`${name}:start`);
      await work(ctx);
      events.push(`${name}:${last}`);
      return { ran: name };
    },
  };
}

/** A stage that logs its start and end and takes `ms`. */
function timed(name: string, ms: number, deps: Partial<Pick<PipelineStage, 'needs' | 'after' | 'weight'>> = {}, fail = false): PipelineStage {
  return logged(name, deps, 'end', async (ctx) => {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      ctx.signal.addEventListener('abort', () => (clearTimeout(timer), reject(new Error(`${name} stopped`))), { once: true });
    });
    if (fail) throw new Error(`${name} broke`);
  });
}

/** A stage that logs its start, waits for what it awaits inside its run, and logs that. */
function waiting(name: string, deps: Pick<PipelineStage, 'needs' | 'awaits' | 'awaitsAfter'>): PipelineStage {
  return logged(name, deps, 'waited', (ctx) => ctx.awaitPrerequisites!());
}

function newJob(stagesDone: string[] = []): Promise<JobRecord> {
  return claimedJobFor(store, 'vid_sched', stagesDone);
}

function run(job: JobRecord, stages: PipelineStage[], concurrency = 2): Promise<void> {
  const deps = { store, media: resolveMediaTools(config), config: { ...config, indexing: { ...config.indexing, stageConcurrency: concurrency } }, log: createLogger('silent') };
  return runIndexPipeline(deps, job, { signal: new AbortController().signal, onProgress: async () => {} }, stages);
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-scheduler-'));
  store = await openEmbeddedStore(dir);
  config = { ...loadConfig({}), dataDir: dir };
  events = [];
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('stage scheduler', () => {
  it('runs independent stages side by side, never more than the limit', async () => {
    await run(await newJob(), [
      timed('probe', 5, { needs: [] }),
      timed('a', 60, { needs: ['probe'] }),
      timed('b', 60, { needs: ['probe'] }),
      timed('c', 60, { needs: ['probe'] }),
      timed('text', 5, { needs: ['a', 'b', 'c'] }),
    ]);
    // a and b overlap; c waits for a slot; text waits for all three.
    expect(events.indexOf('b:start')).toBeLessThan(events.indexOf('a:end'));
    expect(events.indexOf('c:start')).toBeGreaterThan(Math.min(events.indexOf('a:end'), events.indexOf('b:end')));
    expect(events.indexOf('text:start')).toBeGreaterThan(Math.max(...['a:end', 'b:end', 'c:end'].map((e) => events.indexOf(e))));
    for (const name of ['a', 'b', 'c']) expect(await store.catalog.getArtifact('vid_sched', name)).toEqual({ ran: name });
  });

  it('starts a stage that `awaits` others beside them, outside the slots, and lets it wait inside its run', async () => {
    // One slot: shots holds it, and the reader (which takes none) runs beside it; awaiting inside
    // its run, it never blocks shots.
    const reader = waiting('reader', { needs: ['probe'], awaits: ['shots'] });
    await run(await newJob(), [timed('probe', 5, { needs: [] }), timed('shots', 80, { needs: ['probe'] }), reader, timed('text', 5, { needs: ['shots', 'reader'] })], 1);
    expect(events.indexOf('reader:start')).toBeLessThan(events.indexOf('shots:end'));
    expect(events.indexOf('reader:waited')).toBeGreaterThan(events.indexOf('shots:end'));
    expect(events.indexOf('text:start')).toBeGreaterThan(events.indexOf('reader:waited'));
  });

  it('starts a stage that `awaitsAfter` a chosen stage outside the slots, and lets it wait for it inside its run', async () => {
    // One slot, held by faces: voices starts beside it all the same and goes on once faces is done.
    await run(await newJob(), [timed('probe', 5, { needs: [] }), timed('faces', 80, { needs: ['probe'] }), waiting('voices', { needs: ['probe'], awaitsAfter: ['faces'] })], 1);
    expect(events.indexOf('voices:start')).toBeLessThan(events.indexOf('faces:end'));
    expect(events.indexOf('voices:waited')).toBeGreaterThan(events.indexOf('faces:end'));
  });

  it('neither waits for nor brings in an `awaitsAfter` stage that is not chosen', async () => {
    await run(await newJob(), [timed('probe', 5, { needs: [] }), waiting('voices', { needs: ['probe'], awaitsAfter: ['faces'] })]);
    expect(events).toEqual(['probe:start', 'probe:end', 'voices:start', 'voices:waited']);
  });

  it('gives a free slot to the stage with the heaviest chain of stages behind it', async () => {
    const stages = [
      timed('probe', 5, { needs: [] }),
      timed('light', 40, { needs: ['probe'], weight: 2 }),
      timed('objects', 40, { needs: ['probe'], weight: 1 }),
      timed('scenes', 5, { needs: ['objects'], weight: 2 }),
    ];
    expect(Object.fromEntries(criticalPathWeights(stages))).toEqual({ scenes: 2, objects: 3, light: 2, probe: 4 });
    // One slot: objects (3 with scenes behind it) goes before light (2), though listed after it.
    await run(await newJob(), stages, 1);
    expect(events.indexOf('objects:start')).toBeLessThan(events.indexOf('light:start'));
    expect(events.indexOf('scenes:start')).toBeGreaterThan(events.indexOf('objects:end'));
  });

  it('waits for chosen `after` stages, ignores absent ones, and keeps the order of stages that declare nothing', () => {
    const stages = [timed('probe', 1), timed('faces', 1, { needs: ['probe'] }), timed('voices', 1, { needs: ['probe'], after: ['faces', 'ocr'] }), timed('legacy', 1)];
    const prerequisites = stagePrerequisites(stages);
    expect(prerequisites.get('voices')).toEqual(['probe', 'faces']);
    expect(prerequisites.get('legacy')).toEqual(['probe', 'faces', 'voices']);
  });

  it('stops the stages beside an essential stage that fails, and records none of them', async () => {
    await expect(
      run(await newJob(), [timed('probe', 5, { needs: [] }), timed('shots', 30, { needs: ['probe'] }, true), timed('faces', 2000, { needs: ['probe'] })]),
    ).rejects.toThrow(/shots broke/);
    expect(events).not.toContain('faces:end');
    expect(await store.catalog.getArtifact('vid_sched', 'faces')).toBeNull();
  });

  it('resumes from the checkpoints, running only what is left', async () => {
    await store.catalog.putArtifact('vid_sched', 'probe', { ran: 'probe' });
    await store.catalog.putArtifact('vid_sched', 'a', { ran: 'a' });
    await run(await newJob(['probe', 'a']), [timed('probe', 5, { needs: [] }), timed('a', 5, { needs: ['probe'] }), timed('b', 5, { needs: ['a'] })]);
    expect(events).toEqual(['b:start', 'b:end']);
  });
});
