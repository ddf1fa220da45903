#!/usr/bin/env node
// vidsearch serve | index | eval | demo | worker | schema
// Progress and logs go to stderr; results (eval's JSON line) go to stdout.
import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { configureCliOutput, reportCliError, wantsStack } from './commands/cli-errors.js';
import { loadConfig, MAX_PORT } from './config.js';
import { createLogger } from './logger.js';

function intOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

function portOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_PORT) throw new InvalidArgumentError(`expected a port number from 0 to ${MAX_PORT}`);
  return n;
}

// Settings made before .command() are inherited by every subcommand.
const program = configureCliOutput(new Command())
  .name('vidsearch')
  .description('GraphQL video-understanding search API: only-watch-TA, image-to-drama search, contextual ads')
  .option('--verbose', 'print stack traces with errors (so does setting DEBUG)');

program
  .command('serve')
  .description('serve the GraphQL API (and run indexing jobs, in a child process that exits when the queue is empty); runs with NODE_ENV=production unless NODE_ENV is set')
  .option('--port <n>', 'port (default VIDSEARCH_PORT or 4000)', portOption)
  .option('--workers <n>', 'processes answering HTTP (default VIDSEARCH_WORKERS or one per core)', intOption)
  .option('--no-worker', 'do not run indexing jobs')
  .action(async (opts: { port?: number; workers?: number; worker: boolean }) => {
    // Without NODE_ENV=production graphql-js checks every instanceof against a second copy of
    // itself (~3 % of the CPU of a cheap query) and Express runs in development mode. graphql reads
    // it once, when it loads: set here, before serve's modules load, and inherited by every
    // process serve forks (the Docker image sets it too). An explicit NODE_ENV is kept.
    process.env.NODE_ENV ??= 'production';
    const { serveCommand } = await import('./commands/serve.js');
    // Through the environment, so the defaults that follow the worker count (admission) follow the flag too.
    const env = opts.workers === undefined ? process.env : { ...process.env, VIDSEARCH_WORKERS: String(opts.workers) };
    await serveCommand(loadConfig(env), createLogger(), opts);
  });

program
  .command('index')
  .description('index a video file, or every video in a folder, and wait until done')
  .argument('<path>', 'video file or folder')
  .option('--title <title>')
  .option('--series <series>')
  .option('--season <n>', 'season number', intOption)
  .option('--episode <n>', 'episode number', intOption)
  .action(async (target: string, opts: { title?: string; series?: string; season?: number; episode?: number }) => {
    const { indexCommand } = await import('./commands/index-media.js');
    process.exitCode = await indexCommand(loadConfig(), createLogger('warn'), target, opts);
  });

program
  .command('eval')
  .description('run an evaluation manifest (../shared/EVAL.md); prints one JSON line of metrics last')
  .argument('<manifest>', 'manifest.json')
  .option('--out <file>', 'also write the result JSON to this file')
  .option('--baseline <name>', 'also score a baseline (image-search: colorlayout)')
  .option('--face-only', 'presence: enrol faces only (no voices), to report face-only presence')
  .option('--per-query <file>', 'image-search: also write one JSON line per query (answers, confidences, right or wrong) to this file')
  .action(async (manifest: string, opts: { out?: string; baseline?: string; faceOnly?: boolean; perQuery?: string }) => {
    const { evalCommand } = await import('./commands/eval.js');
    await evalCommand(loadConfig(), createLogger('warn'), manifest, opts);
  });

program
  .command('demo')
  .description('generate a sample video with subtitles, index it, serve GraphQL and print example queries')
  .option('--once', 'run the sample queries, print the answers and exit')
  .option('--port <n>', 'port (default VIDSEARCH_PORT or 4000; 0 picks a free one)', portOption)
  .action(async (opts: { once?: boolean; port?: number }) => {
    const { demoCommand } = await import('./commands/demo.js');
    await demoCommand(loadConfig(), createLogger('warn'), opts);
  });

program
  .command('worker')
  .description('run indexing jobs from the queue until stopped')
  .action(async () => {
    const { workerCommand } = await import('./commands/worker.js');
    await workerCommand(loadConfig(), createLogger());
  });

program
  .command('migrate')
  .description('copy the embedded store into Elasticsearch and/or Qdrant (safe to re-run)')
  .requiredOption('--to <targets>', 'elastic, qdrant or elastic,qdrant')
  .action(async (opts: { to: string }) => {
    const { migrateCommand } = await import('./commands/migrate.js');
    const summary = await migrateCommand(loadConfig(), createLogger(), opts.to);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  });

program
  .command('schema')
  .description('write the GraphQL schema to schema/schema.graphql')
  .action(async () => {
    const { emitSchemaFile } = await import('./resolvers/schema.js');
    const file = await emitSchemaFile();
    process.stderr.write(`wrote ${file}\n`);
  });

program
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = reportCliError(err, wantsStack(process.argv));
  })
  // Every command has closed what it opened by now (servers and workers return after an orderly
  // shutdown); model runtimes (wasm, worker threads) may still hold the event loop, so exit.
  .finally(() => process.exit());
