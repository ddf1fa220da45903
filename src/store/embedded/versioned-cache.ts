// A bounded least-recently-used map of values read from the database, valid while the tables they
// came from are unchanged: every read first asks for the tables' current version and drops every
// entry when it moved (see EmbeddedTextIndex.textVersion), so a cached value is never stale.
export class VersionedCache<V> {
  /** Insertion-ordered: the first key is the least recently used. */
  private readonly entries = new Map<string, V>();
  private version = '';

  constructor(
    private readonly capacity: number,
    private readonly currentVersion: () => string,
  ) {}

  /**
   * The value under `key`, computed (and kept, when `keep` allows it) on a miss. `keep` lets a
   * caller leave out values too large to hold.
   */
  get(key: string, compute: () => V, keep: (value: V) => boolean = () => true): V {
    const version = this.currentVersion();
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
    }
    let value = this.entries.get(key);
    if (value === undefined) {
      value = compute();
      if (!keep(value)) return value;
    } else this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
