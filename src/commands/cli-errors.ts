// How the command line reports a failure: one line `vidsearch: …` on stderr; exit 2 for a usage
// mistake (a bad option, configuration or manifest), 1 for anything that failed at run time. A
// missing file or a port in use is not a bug, and a stack trace would only bury the line that
// says so: frames are printed with --verbose or when DEBUG is set.
import { CommanderError, type Command } from 'commander';
import { ConfigError } from '../config.js';
import { AppError, SetupError, userMessage } from '../errors.js';
import { EvalInputError } from '../eval/types.js';

export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/** Errors whose message is the whole story (bad input), as opposed to an unexpected failure. */
function isExpected(err: unknown): boolean {
  if (err instanceof AppError || err instanceof SetupError || err instanceof ConfigError || err instanceof EvalInputError) return true;
  return err instanceof Error && 'syscall' in err; // a file or port the user named
}

export function wantsStack(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  return argv.includes('--verbose') || Boolean(env.DEBUG);
}

/** Writes the failure to stderr and returns the exit code. */
export function reportCliError(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // Commander printed its one line already (see configureCliOutput); help and --version exit 0.
    return err.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  const hint = !verbose && !isExpected(err) ? ' (--verbose shows where)' : '';
  process.stderr.write(`vidsearch: ${userMessage(err)}${hint}\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return err instanceof ConfigError || err instanceof EvalInputError ? EXIT_USAGE : EXIT_RUNTIME;
}

/** Commander's parse errors as one `vidsearch: …` line (no help dump), thrown instead of exiting. */
export function configureCliOutput(program: Command): Command {
  return program.exitOverride().configureOutput({
    outputError: (text, write) => write(`vidsearch: ${text.replace(/^error: /, '').trim()} (see --help)\n`),
  });
}
