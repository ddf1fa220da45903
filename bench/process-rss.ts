// RSS and CPU time of a process and its descendants, read from /proc (Linux): what a server holds
// and spends with all its workers and children together.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** How often sampleTreeRss looks. */
const RSS_SAMPLE_MS = 500;

export interface Rss {
  currentKb: number;
  peakKb: number;
}

async function rssKb(pid: number): Promise<Rss> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  // An exited child not yet reaped (a zombie) has no memory lines: it holds nothing.
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { currentKb: field('VmRSS'), peakKb: field('VmHWM') };
}

/** The process and its descendants (the cluster's workers), from /proc/<pid>/task/<tid>/children. */
async function processTree(pid: number): Promise<number[]> {
  const tree = [pid];
  for (let i = 0; i < tree.length; i += 1) {
    const children = await readFile(`/proc/${tree[i]}/task/${tree[i]}/children`, 'utf8').catch(() => '');
    tree.push(...children.split(/\s+/).filter(Boolean).map(Number));
  }
  return tree;
}

/** RSS of every process of the server together, and of each (pid order: the primary first); a process gone meanwhile counts 0. */
export async function treeRssKb(pid: number): Promise<Rss & { processes: number; each: (Rss & { pid: number })[] }> {
  const pids = await processTree(pid);
  const all = await Promise.all(pids.map((p) => rssKb(p).catch(() => ({ currentKb: 0, peakKb: 0 }))));
  return {
    currentKb: all.reduce((sum, r) => sum + r.currentKb, 0),
    peakKb: all.reduce((sum, r) => sum + r.peakKb, 0),
    processes: all.length,
    each: all.map((r, i) => ({ pid: pids[i]!, ...r })),
  };
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on every Linux the bench runs on). */
const CLOCK_TICKS_PER_SEC = 100;

/** User + system CPU time of one process, in ms (0 for a process gone meanwhile). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may hold spaces), from field 3 (state): utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  return (ticks * 1000) / CLOCK_TICKS_PER_SEC;
}

/**
 * What a server process is: `primary` (the root), its cluster role (VIDSEARCH_CLUSTER_ROLE: http,
 * images, jobs), `tool-launcher`, else its program's name (an ffmpeg the launcher runs).
 */
async function processRole(pid: number, root: number): Promise<string> {
  if (pid === root) return 'primary';
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  // Before the environment: the launcher inherits the image-search process's role variable.
  if (cmdline.some((arg) => arg.endsWith('tool-launcher-main.js'))) return 'tool-launcher';
  const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  return /(?:^|\0)VIDSEARCH_CLUSTER_ROLE=([^\0]+)/.exec(environ)?.[1] ?? (path.basename(cmdline[0] ?? '') || 'other');
}

/**
 * CPU time spent so far by the process and its live descendants, in ms, by role (processRole;
 * processes of one role summed): the difference of two readings around a run is what each part
 * of the server spent on it (a bystander's load does not count, unlike wall-clock rates on a
 * shared machine).
 */
export async function treeCpuMsByRole(pid: number): Promise<Record<string, number>> {
  const pids = await processTree(pid);
  const [roles, times] = await Promise.all([Promise.all(pids.map((p) => processRole(p, pid))), Promise.all(pids.map(cpuMs))]);
  const byRole: Record<string, number> = {};
  roles.forEach((role, i) => (byRole[role] = (byRole[role] ?? 0) + times[i]!));
  return byRole;
}

/** Samples the server's total RSS until stopped; the highest sum seen. */
export function sampleTreeRss(pid: number): { stop(): Promise<number> } {
  let peakKb = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peakKb = Math.max(peakKb, (await treeRssKb(pid)).currentKb);
      await new Promise((resolve) => setTimeout(resolve, RSS_SAMPLE_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peakKb;
    },
  };
}
