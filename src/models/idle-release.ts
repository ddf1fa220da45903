// A model loaded on first use and released once nothing has used it for a while, loaded again on
// the next use. A server that answered one image query (or indexed one video) otherwise keeps the
// model's memory for the rest of its life. Callers never hold the model itself: every use goes
// through use(), so a release can never pull a model from under a running inference.

export interface IdleReleaseOptions<T> {
  load(): Promise<T>;
  release(model: T): Promise<void>;
  /** Released this long after its last use ended. */
  idleMs: number;
}

export class IdleReleasedModel<T> {
  private loading: Promise<T> | null = null;
  private inUse = 0;
  private timer: NodeJS.Timeout | null = null;
  private loadCount = 0;

  constructor(private readonly options: IdleReleaseOptions<T>) {}

  /** Times the model was loaded so far (a failed load counts). */
  get loads(): number {
    return this.loadCount;
  }

  get loaded(): boolean {
    return this.loading !== null;
  }

  /** Runs `fn` with the model, loading it first when needed; the idle clock starts when the last use ends. */
  async use<R>(fn: (model: T) => Promise<R>): Promise<R> {
    this.inUse += 1;
    this.stopClock();
    try {
      return await fn(await this.acquire());
    } finally {
      this.inUse -= 1;
      if (this.inUse === 0) this.startClock();
    }
  }

  /** Forgets `model` when it can serve no more (e.g. its thread died): the next use loads afresh. */
  async forget(model: T): Promise<void> {
    const current = this.loading;
    if (current && (await current.catch(() => null)) === model && this.loading === current) this.loading = null;
  }

  /** Releases the model now unless it is in use (also what the idle clock calls). */
  async release(): Promise<void> {
    this.stopClock();
    const current = this.loading;
    if (!current || this.inUse > 0) return;
    this.loading = null;
    const model = await current.catch(() => null);
    if (model !== null) await this.options.release(model);
  }

  private acquire(): Promise<T> {
    if (!this.loading) {
      this.loadCount += 1;
      const attempt = this.options.load();
      this.loading = attempt;
      // A failed load is not kept: the next use tries again.
      attempt.catch(() => {
        if (this.loading === attempt) this.loading = null;
      });
    }
    return this.loading;
  }

  private startClock(): void {
    if (!this.loading) return;
    this.timer = setTimeout(() => void this.release().catch(() => undefined), this.options.idleMs);
    // An idle model must not keep the process alive just to be released.
    this.timer.unref();
  }

  private stopClock(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
