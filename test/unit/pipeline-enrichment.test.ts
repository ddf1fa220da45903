// An enrichment stage that fails is checkpointed as failed and the job goes on; an essential
// stage that fails fails the job and marks a first index FAILED.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { JobRecord } from '../../src/domain.js';
import { runIndexPipeline, selectStages, type PipelineStage } from '../../src/indexers/pipeline.js';
import { createLogger } from '../../src/logger.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { claimedJobFor } from '../helpers/pipeline-job.js';

let dir: string;
let store: Store;
let config: Config;

const stage = (name: string, run: () => Promise<unknown>): PipelineStage => ({ name, weight: 1, run });

function newJob(): Promise<JobRecord> {
  return claimedJobFor(store, 'vid_pipeline');
}

function run(job: JobRecord, stages: PipelineStage[]): Promise<void> {
  const deps = { store, media: resolveMediaTools(config), config, log: createLogger('silent') };
  return runIndexPipeline(deps, job, { signal: new AbortController().signal, onProgress: async () => {} }, stages);
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-pipeline-'));
  store = await openEmbeddedStore(dir);
  config = { ...loadConfig({}), dataDir: dir };
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('pipeline failure policy', () => {
  it('records a failed enrichment stage and finishes the job', async () => {
    const job = await newJob();
    const after: string[] = [];
    await run(job, [
      stage('shots', async () => ({ shots: 3 })),
      stage('faces', async () => {
        throw new Error('model file corrupt');
      }),
      stage('text', async () => {
        after.push('text');
        return { docs: 1 };
      }),
    ]);
    expect(after).toEqual(['text']);
    expect(await store.catalog.getArtifact('vid_pipeline', 'faces')).toEqual({ failed: true, reason: 'model file corrupt' });
    expect((await store.catalog.getVideo('vid_pipeline'))?.status).toBe('READY');
  });

  it('fails the job when an essential stage fails, marking a first index FAILED', async () => {
    const job = await newJob();
    await expect(
      run(job, [
        stage('shots', async () => {
          throw new Error('decoder exploded');
        }),
      ]),
    ).rejects.toThrow(/stage shots: decoder exploded/);
    const video = await store.catalog.getVideo('vid_pipeline');
    expect(video?.status).toBe('FAILED');
    expect(video?.error).toMatch(/decoder exploded/);
  });
});

describe('selectStages (VIDSEARCH_STAGES)', () => {
  const all: PipelineStage[] = [
    { ...stage('probe', async () => null) },
    { ...stage('shots', async () => null), needs: ['probe'] },
    { ...stage('faces', async () => null), needs: ['shots'] },
    { ...stage('objects', async () => null), needs: ['shots'] },
    { ...stage('scenes', async () => null), needs: ['faces', 'objects'] },
    { ...stage('ocr', async () => null), needs: ['shots'] },
    { ...stage('text', async () => null), needs: ['shots'] },
  ];
  const names = (stages: PipelineStage[]): string[] => stages.map((s) => s.name);

  it('runs everything by default and only essentials plus the chosen ones otherwise', () => {
    expect(names(selectStages(all, null))).toEqual(names(all));
    expect(names(selectStages(all, []))).toEqual(['probe', 'shots', 'text']);
    expect(names(selectStages(all, ['ocr']))).toEqual(['probe', 'shots', 'ocr', 'text']);
  });

  it('brings in the stages a chosen stage reads from', () => {
    expect(names(selectStages(all, ['scenes']))).toEqual(['probe', 'shots', 'faces', 'objects', 'scenes', 'text']);
  });

  it('refuses unknown stage names', () => {
    expect(() => selectStages(all, ['ocrr'])).toThrow(/unknown stages: ocrr/);
  });
});
