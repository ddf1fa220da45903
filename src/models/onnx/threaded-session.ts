// A manifest model's session whose runs happen on a thread of its own (runner.ts), for models the
// indexing stages call once or more per frame from the event loop: onnxruntime-node's run is
// synchronous underneath its Promise, so a face detection there (~18 ms a frame) stalled every
// stage reading the job's one decode, and the decoder behind them, while it ran; on a thread it
// runs beside them, on the second core. Same ONNX Runtime, same options (one intra-op thread):
// the outputs are the same numbers.
import { manifestEntry, manifestModelPath, ort, readVerifiedModel, type OnnxSession } from '../runtime.js';
import { openOnnxRunnerFor, type FloatTensors, type OnnxRunner } from './runner.js';

class ThreadedSession implements OnnxSession {
  constructor(private readonly runner: OnnxRunner) {}

  get inputNames(): readonly string[] {
    return this.runner.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.runner.outputNames;
  }

  async run(feeds: ort.InferenceSession.FeedsType): Promise<ort.InferenceSession.ReturnType> {
    const floats: FloatTensors = {};
    for (const [name, value] of Object.entries(feeds)) {
      const tensor = value as ort.Tensor;
      if (tensor.type !== 'float32') throw new Error(`input ${name} is ${tensor.type}: a threaded session takes float32 inputs`);
      // A copy goes to the thread (its buffer is handed over): the caller's array stays usable.
      floats[name] = { data: (tensor.data as Float32Array).slice(), dims: [...tensor.dims] };
    }
    const outputs = await this.runner.run(floats);
    return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, new ort.Tensor('float32', t.data, t.dims)]));
  }
}

const sessions = new Map<string, Promise<OnnxSession>>();

/**
 * One cached threaded session per manifest model, its sha256 verified at load (as
 * loadManifestSession); a failed load is not cached. Under vitest (TypeScript sources, no worker
 * script) it runs in this thread instead.
 */
export function loadThreadedManifestSession(id: string): Promise<OnnxSession> {
  let session = sessions.get(id);
  if (!session) {
    session = (async () => {
      const bytes = await readVerifiedModel(manifestModelPath(id), manifestEntry(id).sha256);
      // The thread takes over the buffer it is given: a copy that owns all of its memory.
      return new ThreadedSession(await openOnnxRunnerFor(new Uint8Array(bytes), { intraOpNumThreads: 1 }));
    })();
    sessions.set(id, session);
    session.catch(() => sessions.delete(id));
  }
  return session;
}
