import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSpoolFolder, sweepAbandonedSpoolFolders } from '../../src/media/spool-folder.js';

/** The id of a process that has exited (its id is free, or reused by an unrelated process at worst). */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
}

describe('spool folders', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tmp = (): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
    dirs.push(dir);
    return dir;
  };

  it('removes folders of dead processes and keeps those of live ones and anything else', () => {
    const dir = tmp();
    const dead = path.join(dir, `vidsearch-spool-${deadPid()}-abc`);
    const live = path.join(dir, `vidsearch-spool-${process.pid}-def`);
    const unrelated = path.join(dir, 'vidsearch-spool-old-style');
    for (const d of [dead, live, unrelated]) mkdirSync(path.join(d, 'inner'), { recursive: true });
    expect(sweepAbandonedSpoolFolders(dir)).toBe(1);
    expect([existsSync(dead), existsSync(live), existsSync(unrelated)]).toEqual([false, true, true]);
  });

  it('names a new folder after this process', () => {
    const folder = createSpoolFolder(tmp());
    expect(path.basename(folder)).toMatch(new RegExp(`^vidsearch-spool-${process.pid}-`));
    expect(existsSync(folder)).toBe(true);
  });
});
