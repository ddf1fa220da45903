import { writeFile } from 'node:fs/promises';
import type { Config } from '../config.js';
import { runEval } from '../eval/run.js';
import type { Logger } from '../logger.js';

export async function evalCommand(
  config: Config,
  log: Logger,
  manifest: string,
  opts: { out?: string; baseline?: string; faceOnly?: boolean; perQuery?: string },
): Promise<void> {
  const options: Record<string, string | boolean> = {};
  if (opts.baseline) options.baseline = opts.baseline;
  if (opts.faceOnly) options['face-only'] = true;
  if (opts.perQuery) options['per-query'] = opts.perQuery;
  const result = await runEval(manifest, config, log, options);
  const line = JSON.stringify(result);
  if (opts.out) await writeFile(opts.out, `${line}\n`);
  process.stdout.write(`${line}\n`);
}
