// A per-job progress bar on stderr (stdout stays clean for results).
import cliProgress from 'cli-progress';
import type { JobRecord } from '../domain.js';

export interface JobProgressBar {
  update(job: JobRecord): void;
  stop(): void;
}

export function createJobProgressBar(label: string): JobProgressBar {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {stage}`,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 2000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(100, 0, { stage: 'queued' });
  return {
    update(job) {
      bar.update(Math.round(job.progress * 100), { stage: `${job.stage ?? job.status.toLowerCase()}` });
    },
    stop() {
      bar.stop();
    },
  };
}
