// The temp folder a job's decode spools frames into. Its name carries the owning process id so
// that folders left behind by a process that was killed (SIGKILL, OOM, a crashed test) — which
// never ran its cleanup — can be recognised and removed by the next process that spools.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PREFIX = 'vidsearch-spool-';

/** True while a process with this id exists (EPERM: it exists but belongs to someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes spool folders whose owning process is gone; returns how many. Folders of live processes stay. */
export function sweepAbandonedSpoolFolders(tmpDir = os.tmpdir()): number {
  let removed = 0;
  for (const name of readdirSync(tmpDir)) {
    const pid = Number(/^vidsearch-spool-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
    rmSync(path.join(tmpDir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

let swept = false;

/** A new spool folder for this process; the first call also sweeps folders of dead processes. */
export function createSpoolFolder(tmpDir = os.tmpdir()): string {
  if (!swept) {
    swept = true;
    sweepAbandonedSpoolFolders(tmpDir);
  }
  return mkdtempSync(path.join(tmpDir, `${PREFIX}${process.pid}-`));
}
