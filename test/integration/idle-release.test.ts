// A model registry entry (src/models/idle-release.ts) with a real ONNX Runtime session on a tiny
// generated model: loaded on first use, released after its idle time, loaded again on demand —
// and never released while a use is running, however long that use takes.
import { describe, expect, it } from 'vitest';
import { IdleReleasedModel } from '../../src/models/idle-release.js';
import { openSessionRunner, type OnnxRunner } from '../../src/models/onnx/runner.js';
import { tinyEmbedderModel } from '../helpers/tiny-onnx.js';

const IDLE_MS = 60;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function registry(): { entry: IdleReleasedModel<OnnxRunner>; closed: OnnxRunner[] } {
  const bytes = tinyEmbedderModel({ inputShape: [4], dim: 3 });
  const closed: OnnxRunner[] = [];
  const entry = new IdleReleasedModel<OnnxRunner>({
    idleMs: IDLE_MS,
    load: () => openSessionRunner(bytes),
    release: async (runner) => {
      closed.push(runner);
      await runner.close();
    },
  });
  return { entry, closed };
}

const embed = (runner: OnnxRunner) => runner.run({ input: { data: new Float32Array([1, 2, 3, 4]), dims: [1, 4] } }).then((out) => [...out.embedding!.data]);

describe('a model released when idle', () => {
  it('loads on first use, unloads after the idle time and reloads on demand with the same answers', async () => {
    const { entry, closed } = registry();
    expect(entry.loaded).toBe(false);
    const first = await entry.use(embed);
    expect(entry).toMatchObject({ loaded: true, loads: 1 });
    await entry.use(embed);
    expect(entry.loads).toBe(1);

    await sleep(IDLE_MS * 3);
    expect(entry.loaded).toBe(false);
    expect(closed).toHaveLength(1);

    expect(await entry.use(embed)).toEqual(first);
    expect(entry).toMatchObject({ loaded: true, loads: 2 });
    await entry.release();
    expect(closed).toHaveLength(2);
  });

  it('is not released while a use runs longer than the idle time', async () => {
    const { entry, closed } = registry();
    const answer = await entry.use(async (runner) => {
      await sleep(IDLE_MS * 3);
      return embed(runner);
    });
    expect(answer).toHaveLength(3);
    expect(closed).toHaveLength(0);
    await entry.release();
    expect(closed).toHaveLength(1);
  });

  it('retries a failed load on the next use and forgets a model that died', async () => {
    let fail = true;
    const bytes = tinyEmbedderModel({ inputShape: [4], dim: 3 });
    const entry = new IdleReleasedModel<OnnxRunner>({
      idleMs: IDLE_MS,
      load: () => (fail ? Promise.reject(new Error('no model here')) : openSessionRunner(bytes)),
      release: (runner) => runner.close(),
    });
    await expect(entry.use(embed)).rejects.toThrow('no model here');
    expect(entry.loaded).toBe(false);
    fail = false;
    const runner = await entry.use(async (r) => r);
    await entry.forget(runner);
    expect(entry.loaded).toBe(false);
    await entry.use(embed);
    expect(entry.loads).toBe(3);
    await entry.release();
    await runner.close();
  });
});
