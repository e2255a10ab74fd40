import { createRequire } from 'node:module';
import { RUN_ID_PATTERN } from '@autolab/contracts';
import { Argument, Command, InvalidArgumentError } from 'commander';
import { ApiClient } from './api-client.js';
import { cancelCommand } from './commands/cancel.js';
import { DOWNLOAD_TARGETS, type DownloadTarget, downloadCommand } from './commands/download.js';
import { listCommand } from './commands/list.js';
import { statusCommand } from './commands/status.js';
import { type SubmitOptions, submitCommand } from './commands/submit.js';
import { watchRun } from './commands/watch.js';
import { isDebug, loadConfig } from './config.js';
import type { CliContext, Io } from './context.js';
import type { FollowOptions } from './event-follower.js';
import { describeError, EXIT_CODES_HELP, ExitCode, exitCodeFor } from './exit-codes.js';
import type { ClockOptions } from './human-format.js';

export interface CliDeps {
  /** @defaultValue `process.env` */
  env?: Record<string, string | undefined>;
  /** @defaultValue the process's stdout, stderr and stdin */
  io?: Io;
  follow?: Partial<FollowOptions>;
  clock?: ClockOptions;
  fetch?: typeof fetch;
}

export const processIo: Io = {
  out: (text) => {
    process.stdout.write(text);
  },
  err: (text) => {
    process.stderr.write(text);
  },
  readStdin: async () => {
    if (process.stdin.isTTY) process.stderr.write('reading the goal from standard input; end it with Ctrl-D\n');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const integer = (value: string): number => {
  if (!/^\s*[-+]?\d+\s*$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
};

const decimal = (value: string): number => {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new InvalidArgumentError('expected a number.');
  return number;
};

const runId = (value: string): string => {
  if (!RUN_ID_PATTERN.test(value))
    throw new InvalidArgumentError('expected a run id: run_ and 26 lower-case letters or digits.');
  return value;
};

const positiveInteger = (value: string): number => {
  const number = integer(value);
  if (number < 1) throw new InvalidArgumentError('expected a whole number of at least 1.');
  return number;
};

/** The `autolab` program. Each action stores its exit code through `setExit`. */
export function buildProgram(context: () => CliContext, io: Io, setExit: (code: ExitCode) => void): Command {
  const program = new Command('autolab')
    .description('Autolab: submit research goals, watch the experiments live, download the paper and the code.')
    .version(version, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) })
    .showHelpAfterError('(autolab --help shows the usage)')
    .addHelpText('after', EXIT_CODES_HELP);

  program
    .command('submit')
    .description('Submit a research goal; prints the run id and its links.')
    .argument('[goal...]', 'the goal in plain language (words are joined); "-" reads it from standard input')
    .option('-f, --file <path>', 'read the goal from a file ("-" for standard input)')
    .option('--max-iterations <n>', 'experiments to run at most (server default 6)', integer)
    .option('--budget-usd <usd>', 'hard cap on model spend in USD (default 5)', decimal)
    .option('--time-limit-minutes <n>', 'wall-clock cap of the run (default 60)', integer)
    .option('--model <name>', 'model at the OpenAI-compatible endpoint (default: the server setting)')
    .option('--cpus <n>', 'CPU cores of the sandbox (default 1)', decimal)
    .option('--memory-mb <n>', 'memory limit of the sandbox in MB (default 2048)', integer)
    .option('--exec-timeout-seconds <n>', 'time limit of one experiment run (default 300)', integer)
    .option('--idempotency-key <key>', 'the same key again returns the same run instead of submitting a new one')
    .option('-w, --watch', 'then follow the run like `autolab watch` (exit code: the run outcome)')
    .option('--json', 'print the run record as JSON (with --watch: then one event per line)')
    .action(async (words: string[], options: SubmitOptions) => {
      setExit(await submitCommand(context(), words, options));
    });

  program
    .command('list')
    .description('List runs, newest first.')
    .option('-n, --limit <n>', 'runs per page', positiveInteger)
    .option('--cursor <cursor>', 'continue after a previous page (printed under the table)')
    .option('--json', 'print the page as JSON')
    .action(async (options: { limit?: number; cursor?: string; json?: boolean }) => {
      setExit(await listCommand(context(), options));
    });

  program
    .command('status')
    .description('Show where a run is: status, stage, progress, best metric, cost.')
    .argument('<id>', 'run id', runId)
    .option('--json', 'print the run record as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      setExit(await statusCommand(context(), id, options));
    });

  program
    .command('watch')
    .description('Follow a run live, one line per event, until it finishes (resumes after dropped connections).')
    .argument('<id>', 'run id', runId)
    .option('--json', 'one JSON event per line on stdout (the final status line goes to stderr)')
    .action(async (id: string, options: { json?: boolean }) => {
      setExit(await watchRun(context(), id, { json: options.json ?? false }));
    });

  program
    .command('download')
    .description('Download the paper (paper.pdf, paper.tex), the code archive, or both plus the whole run.')
    .argument('<id>', 'run id', runId)
    .addArgument(
      new Argument('[target]', 'paper: PDF and LaTeX; code: <id>-code.tar.gz; all: both and <id>.tar.gz')
        .choices(DOWNLOAD_TARGETS)
        .default('all'),
    )
    .option('-o, --out <dir>', 'output directory (default ./autolab-output/<id>)')
    .action(async (id: string, target: DownloadTarget, options: { out?: string }) => {
      setExit(await downloadCommand(context(), id, target, options));
    });

  program
    .command('cancel')
    .description('Ask a run to stop; it finishes as cancelled.')
    .argument('<id>', 'run id', runId)
    .option('--json', 'print the run record as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      setExit(await cancelCommand(context(), id, options));
    });

  return program;
}

/** Runs one command line (without `node` and the script) and returns the exit code; never throws. */
export async function runCli(argv: string[], deps: CliDeps = {}): Promise<ExitCode> {
  const env = deps.env ?? process.env;
  const io = deps.io ?? processIo;
  let exitCode: ExitCode = ExitCode.Ok;
  const context = (): CliContext => {
    const config = loadConfig(env);
    return {
      client: new ApiClient({ baseUrl: config.baseUrl, apiKey: config.apiKey, fetch: deps.fetch }),
      io,
      follow: deps.follow ?? {},
      clock: deps.clock ?? {},
    };
  };
  const program = buildProgram(context, io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const message = describeError(error);
    if (message !== null) io.err(`autolab: ${message}\n`);
    if (isDebug(env) && error instanceof Error && error.stack) io.err(`${error.stack}\n`);
    return exitCodeFor(error);
  }
}
