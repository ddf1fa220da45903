// The BullMQ job queue against a real redis-server started here on a loopback port: the shared
// conformance suite (catalog/text/vectors embedded, jobs on Redis), plus what scale-out needs —
// several queue instances (one per worker process) sharing the work in priority + newest order.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { BullJobQueue } from '../../src/store/bullmq/job-queue.js';
import { openStore, redisConnection } from '../../src/store/open.js';
import { describeStoreConformance } from './conformance.js';

const redisBinary = spawnSync('redis-server', ['--version']).status === 0 ? 'redis-server' : null;
if (!redisBinary) console.warn('[bullmq] SKIPPED: redis-server is not installed (apt-get install -y redis-server)');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function startRedis(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(redisBinary!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const probe = await redisConnection(url);
  probe.on('error', () => undefined); // refused until the server listens
  try {
    for (let i = 0; i < 100; i += 1) {
      if ((await probe.ping().catch(() => null)) === 'PONG') return { url, process: child };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not start');
  } finally {
    probe.disconnect();
  }
}

const suite = redisBinary ? describe : describe.skip;

suite('bullmq job queue (real redis-server)', () => {
  let redis: { url: string; process: ChildProcess };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => {
    redis?.process.kill();
  });

  describeStoreConformance('embedded + bullmq', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-bullmq-'));
    const config = loadConfig({ VIDSEARCH_DATA_DIR: dir, VIDSEARCH_QUEUE: 'bullmq', REDIS_URL: redis.url }, dir);
    const store = await openStore(config);
    return {
      store,
      async dispose() {
        await store.close();
        const flush = await redisConnection(redis.url);
        await flush.flushall();
        flush.disconnect();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });

  describe('several worker processes', () => {
    it('share one queue: each job once, highest priority then newest, crash resume across instances', async () => {
      const connections = await Promise.all([redisConnection(redis.url), redisConnection(redis.url), redisConnection(redis.url)]);
      const [api, workerA, workerB] = connections.map((connection) => new BullJobQueue({ connection, prefix: 'scale', lockMs: 60_000 }));
      try {
        const jobs = [];
        for (let i = 0; i < 12; i += 1) jobs.push(await api!.enqueue({ kind: 'INDEX_VIDEO', videoId: null, request: { path: `/m/${i}.mp4` }, priority: i % 3 === 0 ? 2 : 0 }));
        const urgentNewestFirst = jobs.filter((_, i) => i % 3 === 0).reverse().map((j) => j.id);
        const normalNewestFirst = jobs.filter((_, i) => i % 3 !== 0).reverse().map((j) => j.id);

        // One claim at a time, alternating workers: the global order is priority, then newest.
        const order: string[] = [];
        for (let i = 0; i < 6; i += 1) order.push((await (i % 2 ? workerB! : workerA!).claim(`w${i % 2}`))!.id);
        expect(order).toEqual([...urgentNewestFirst, ...normalNewestFirst.slice(0, 2)]);

        // The rest, concurrently from both: nobody gets a job twice, nothing is left behind.
        const rest = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? workerB! : workerA!).claim(`w${i % 2}`)));
        const restIds = rest.filter((j) => j !== null).map((j) => j.id);
        expect(restIds.sort()).toEqual(normalNewestFirst.slice(2).sort());

        // Worker A "crashes" with a job after reporting a finished stage; B resumes it.
        const crashed = order[0]!;
        await workerA!.progress(crashed, { stage: 'faces', progress: 0.5, stagesDone: ['probe', 'shots'] });
        for (const id of [...order, ...restIds]) if (id !== crashed) await workerB!.complete(id);
        await new Promise((r) => setTimeout(r, 30));
        expect(await api!.requeueStale(10)).toBe(1);
        const resumed = await workerB!.claim('w1');
        expect(resumed).toMatchObject({ id: crashed, attempts: 2, stagesDone: ['probe', 'shots'], workerId: 'w1' });
        await workerB!.complete(crashed);
        expect(await api!.countByStatus()).toEqual({ QUEUED: 0, RUNNING: 0, SUCCEEDED: 12, FAILED: 0, CANCELLED: 0 });
      } finally {
        for (const queue of [api, workerA, workerB]) await queue!.close();
        for (const connection of connections) connection.disconnect();
      }
    });

    it('a cancel from the API process reaches a job another process is running', async () => {
      const connections = await Promise.all([redisConnection(redis.url), redisConnection(redis.url)]);
      const [api, worker] = connections.map((connection) => new BullJobQueue({ connection, prefix: 'cancel', lockMs: 60_000 }));
      try {
        const job = await api!.enqueue({ kind: 'INDEX_VIDEO', videoId: 'v1', request: { path: '/m/v1.mp4' } });
        await worker!.claim('w');
        expect((await api!.activeForVideo('v1'))?.id).toBe(job.id);
        expect(await api!.cancel(job.id)).toMatchObject({ status: 'CANCELLED' });
        // The worker's heartbeat reads the job and stops; its late completion changes nothing.
        expect((await worker!.get(job.id))?.status).toBe('CANCELLED');
        await worker!.complete(job.id);
        expect(await api!.get(job.id)).toMatchObject({ status: 'CANCELLED', error: null });
        expect(await api!.activeForVideo('v1')).toBeNull();
      } finally {
        for (const queue of [api, worker]) await queue!.close();
        for (const connection of connections) connection.disconnect();
      }
    });
  });
});
