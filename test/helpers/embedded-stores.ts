// Embedded stores in a temporary directory for each test of the calling describe block: opened
// by name, closed and removed after the test (migration copies read their SQLite file by path).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';

export interface TempStores {
  /** Opens (creating) the store named `name` in this test's directory. */
  open(name: string): Promise<Store>;
  /** The data dir of the store named `name`. */
  dataDir(name: string): string;
}

export function useEmbeddedStores(prefix: string): TempStores {
  let dir = '';
  const stores: Store[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dataDir: (name) => path.join(dir, name),
    async open(name) {
      const store = await openEmbeddedStore(path.join(dir, name));
      stores.push(store);
      return store;
    },
  };
}
