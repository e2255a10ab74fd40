import { createRequire } from 'node:module';
import type { FollowOptions } from '@autolab/api-client';
import { ApiClient } from '@autolab/api-client';
import { RerunStage, RUN_ID_PATTERN } from '@autolab/contracts';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { cancelCommand } from './commands/cancel.js';
import { DOWNLOAD_TARGETS, type DownloadTarget, downloadCommand } from './commands/download.js';
import { type EvolveOptions, evolveCommand } from './commands/evolve.js';
import { hintCommand } from './commands/hint.js';
import { type CreateKeyOptions, createKeyCommand, listKeysCommand, revokeKeyCommand } from './commands/keys.js';
import {
  deleteLessonCommand,
  type LessonListOptions,
  listLessonsCommand,
  showLessonCommand,
  updateLessonCommand,
} from './commands/lessons.js';
import { listCommand } from './commands/list.js';
import { LOG_STREAMS, type LogStream, logsCommand } from './commands/logs.js';
import { type RerunOptions, rerunCommand } from './commands/rerun.js';
import { statusCommand } from './commands/status.js';
import { type SubmitOptions, submitCommand } from './commands/submit.js';
import { templatesCommand } from './commands/templates.js';
import { treeCommand } from './commands/tree.js';
import { watchRun } from './commands/watch.js';
import { isDebug, loadConfig } from './config.js';
import { type CliContext, DEFAULT_LIVE_OPTIONS, type Io, type LiveOptions } from './context.js';
import { describeError, EXIT_CODES_HELP, ExitCode, exitCodeFor } from './exit-codes.js';
import type { ClockOptions } from './human-format.js';

export interface CliDeps {
  /** @defaultValue `process.env` */
  env?: Record<string, string | undefined>;
  /** @defaultValue the process's stdout, stderr, stdin and signals (`processIo`) */
  io?: Io;
  follow?: Partial<FollowOptions>;
  clock?: ClockOptions;
  /** Timing of the live view and the progress bars. */
  live?: Partial<LiveOptions>;
  fetch?: typeof fetch;
}

const ttyOf = (stream: NodeJS.WriteStream) => (stream.isTTY ? { columns: () => stream.columns || 80 } : null);

export const processIo: Io = {
  out: (text) => {
    process.stdout.write(text);
  },
  err: (text) => {
    process.stderr.write(text);
  },
  readStdin: async () => {
    if (process.stdin.isTTY) process.stderr.write('reading from standard input; end it with Ctrl-D\n');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  stdoutTty: ttyOf(process.stdout),
  stderrTty: ttyOf(process.stderr),
  onInterrupt: (handler) => {
    let calls = 0;
    // The first Ctrl-C lets the command tidy up (terminal, partial files); a second one does not wait for it.
    const listener = () => {
      calls++;
      if (calls > 1) process.exit(ExitCode.Interrupted);
      handler();
    };
    process.on('SIGINT', listener);
    process.on('SIGTERM', listener);
    return () => {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    };
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

/** Repeatable options (`--tag a --tag b`) gather their values. */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

const positiveInteger = (value: string): number => {
  const number = integer(value);
  if (number < 1) throw new InvalidArgumentError('expected a whole number of at least 1.');
  return number;
};

const PLAIN_HELP = 'plain lines even on a terminal (no live view)';

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
    .argument(
      '[goal...]',
      'the goal in plain language (words are joined); "-" reads it from standard input; optional with --template',
    )
    .option('-f, --file <path>', 'read the goal from a file ("-" for standard input)')
    .option('--max-iterations <n>', 'experiments to run at most (server default 6)', integer)
    .option('--budget-usd <usd>', 'hard cap on model spend in USD (default 5; only for models with a price)', decimal)
    .option('--max-tokens <n>', 'hard cap on model tokens, prompt + completion (default: none)', integer)
    .option('--time-limit-minutes <n>', 'wall-clock cap of the run (default 60)', integer)
    .option('--model <name>', 'model at the OpenAI-compatible endpoint, for every role (default: the server setting)')
    .option('--model-code <name>', 'the model that writes and fixes the experiment programs')
    .option('--model-judge <name>', 'the model that reviews each execution and breaks ties')
    .option('--model-writeup <name>', 'the model that writes the figure code and the paper')
    .option('--model-review <name>', 'the model that reviews the paper')
    .option('--model-ideas <name>', 'the model that proposes and refines the ideas')
    .option('--model-vision <name>', 'a model that sees images and critiques the figures ("none": no critique)')
    .option('--cpus <n>', 'CPU cores of the sandbox (default 1)', decimal)
    .option('--memory-mb <n>', 'memory limit of the sandbox in MB (default 2048)', integer)
    .option('--exec-timeout-seconds <n>', 'time limit of one experiment run (default 300)', integer)
    .option('--image <name>', 'sandbox image the experiments run in (default python; `GET /v1/images` lists them)')
    .option('--num-drafts <n>', 'search: independent first drafts in the baseline stage (default 2)', integer)
    .option('--debug-prob <p>', 'search: chance of debugging a failed leaf instead of improving (default 0.5)', decimal)
    .option('--max-debug-depth <n>', 'search: debug attempts in a row on one lineage (default 3)', integer)
    .option(
      '--node-concurrency <n>',
      'search: experiments evaluated at once, each in its own sandbox (default 1)',
      integer,
    )
    .option('--num-ideas <n>', 'ideation: ideas proposed (default 3)', integer)
    .option('--reflections <n>', 'ideation: rounds in which the model revises its ideas (default 1)', integer)
    .option('--reviewers <n>', 'review: independent reviews, 0 skips the review (default 3)', integer)
    .option('--revise', 'review: one revision of the paper driven by the meta-review')
    .option('--no-revise', 'review: no revision (the default)')
    .option('--seeds <n>', 'extra seeds the best experiment is re-run with (default 3)', integer)
    .option('--page-limit <n>', 'pages the paper may have (default 8)', integer)
    .option('--idempotency-key <key>', 'the same key again returns the same run instead of submitting a new one')
    .option('--data <path>', 'upload a file or directory as the run’s data (read-only at /workspace/input/data/)')
    .option('--code <path>', 'upload a file or directory as starting code (read-only at /workspace/input/code/)')
    .option('--hidden <path>', 'upload held-out answers the agent never sees; the best programs are graded on them')
    .option('--grader <path>', 'with --hidden: the grading program (grade.py, writes score.json)')
    .option('--metric <name>', 'with --hidden: a built-in metric (accuracy, f1, auc, rmse, mae, logloss)')
    .option('--direction <d>', 'with --hidden: maximize or minimize (default: the metric’s own; maximize for a grader)')
    .option('--papers <path>', 'upload PDFs and .bib files the research builds on (ideation, related work, citations)')
    .option(
      '--template <name>',
      'start from a built-in template (autolab templates): its baseline is the starting code; the goal may be left out',
    )
    .option('-w, --watch', 'then follow the run like `autolab watch` (exit code: the run outcome)')
    .option('--plain', `with --watch: ${PLAIN_HELP}`)
    .option('--json', 'print the run record as JSON (with --watch: then one event per line)')
    .action(async (words: string[], options: SubmitOptions) => {
      setExit(await submitCommand(context(), words, options));
    });

  program
    .command('evolve')
    .description(
      'Evolve a program against your evaluator (mode evolve, docs/evolve.md): a population of better programs out.',
    )
    .argument('<program>', 'the program to improve: a file, or a directory (then --program names the file if unclear)')
    .requiredOption('--evaluator <dir>', 'a directory (or file) with evaluate.py, which scores each candidate')
    .option('--goal <text>', 'what "better" means, in words (default: improve the score, keeping it correct)')
    .option('--generations <n>', 'generations to run at most (default 10)', integer)
    .option('--population <n>', 'children written per generation, over all islands (default 4)', integer)
    .option('--islands <n>', 'sub-populations that evolve apart (default 2)', integer)
    .option(
      '--migration-interval <n>',
      "every n generations each island gets its neighbour's best (default 5)",
      integer,
    )
    .option('--models <a,b>', 'mutation models, comma-separated; with several, a bandit allocates the generations')
    .option(
      '--novelty <x>',
      'reject a child at least this similar to an existing program, 0.5-1 (default 0.99)',
      decimal,
    )
    .option(
      '--patch-types <shares>',
      'how children are written, e.g. diff=0.6,rewrite=0.3,crossover=0.1; a type left out gets none (default those)',
    )
    .option(
      '--meta-interval <n>',
      'recommendations from recent results every n generations, 0: never (default 3)',
      integer,
    )
    .option('--program <file>', 'the file of a PROGRAM directory to evolve')
    .option('--budget-usd <usd>', 'hard cap on model spend in USD (default 5; only for models with a price)', decimal)
    .option('--time-limit-minutes <n>', 'wall-clock cap of the run (default 60)', integer)
    .option('--model <name>', 'model for every role (default: the server setting)')
    .option('--node-concurrency <n>', 'candidates evaluated at once, each in its own sandbox (default 1)', integer)
    .option('--idempotency-key <key>', 'the same key again returns the same run instead of submitting a new one')
    .option('-w, --watch', 'then follow the run like `autolab watch` (exit code: the run outcome)')
    .option('--plain', `with --watch: ${PLAIN_HELP}`)
    .option('--json', 'print the run record as JSON (with --watch: then one event per line)')
    .action(async (programPath: string, options: EvolveOptions) => {
      setExit(await evolveCommand(context(), programPath, options));
    });

  program
    .command('templates')
    .description('List the built-in research templates (start a run from one with submit --template NAME).')
    .option('--json', 'print the templates as JSON, with their code')
    .action(async (options: { json?: boolean }) => {
      setExit(await templatesCommand(context(), options));
    });

  const lessons = program
    .command('lessons')
    .description("What your tenant's earlier runs taught, with the measurements behind each lesson (docs/lessons.md).");
  lessons
    .command('list', { isDefault: true })
    .description(
      'List the lessons, newest first; with a query, the ones a run with that goal, plan or error would get.',
    )
    .argument('[query...]', 'a goal, a plan or an error message (words are joined)')
    .option('--kind <kind>', 'only pitfall, technique, setting or negative-result')
    .option('--tag <tag>', 'only lessons with this tag, e.g. lib:numpy (repeat for several)', collect, [])
    .option('--all', 'include retracted lessons')
    .option('-n, --limit <n>', 'lessons per page', positiveInteger)
    .option('--cursor <cursor>', 'continue after a previous page (printed under the table)')
    .option('--json', 'print the page as JSON')
    .action(async (query: string[], options: LessonListOptions) => {
      setExit(await listLessonsCommand(context(), query, options));
    });
  lessons
    .command('show')
    .description('One lesson with its evidence: each run and experiment it rests on, the values recorded, the files.')
    .argument('<id>', 'lesson id (les_…)')
    .option('--json', 'print the lesson as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      setExit(await showLessonCommand(context(), id, options));
    });
  for (const [name, description, change] of [
    ['pin', 'Pin a lesson: retrieved first whenever it is relevant.', { pinned: true }],
    ['unpin', 'Unpin a lesson.', { pinned: false }],
    ['retract', 'Retract a lesson: kept for the record, never put into a run again.', { retracted: true }],
    ['restore', 'Undo a retraction.', { retracted: false }],
  ] as const) {
    lessons
      .command(name)
      .description(description)
      .argument('<id>', 'lesson id (les_…)')
      .action(async (id: string) => {
        setExit(await updateLessonCommand(context(), id, change));
      });
  }
  lessons
    .command('delete')
    .description('Delete a lesson.')
    .argument('<id>', 'lesson id (les_…)')
    .action(async (id: string) => {
      setExit(await deleteLessonCommand(context(), id));
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
    .description('Show where a run is: status, stage, progress, best metric, cost, policy.')
    .argument('<id>', 'run id', runId)
    .option('--json', 'print the run record as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      setExit(await statusCommand(context(), id, options));
    });

  program
    .command('watch')
    .description(
      'Follow a run live until it finishes (resumes after dropped connections). On a terminal: log lines above a ' +
        'status block (stage, iterations, best metric, cost, elapsed time); piped: one line per event.',
    )
    .argument('<id>', 'run id', runId)
    .option('--plain', PLAIN_HELP)
    .option('--json', 'one JSON event per line on stdout (the final status line goes to stderr)')
    .action(async (id: string, options: { json?: boolean; plain?: boolean }) => {
      setExit(await watchRun(context(), id, options));
    });

  program
    .command('tree')
    .description(
      'Show the experiment tree: each node under its parent with its operator, stage, outcome, metric and plan.',
    )
    .argument('<id>', 'run id', runId)
    .option('--json', 'print {runId, metric, nodes, bestNodeId} as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      setExit(await treeCommand(context(), id, options));
    });

  program
    .command('logs')
    .description("Print what a node's program wrote (its captured stdout and stderr).")
    .argument('<id>', 'run id', runId)
    .argument('<node>', 'node id, e.g. n003 (or just 3)')
    .addOption(new Option('--stream <stream>', 'which output').choices(LOG_STREAMS).default('both'))
    .option('--json', 'print {runId, nodeId, stdout, stderr} as JSON (a stream not asked for or missing: null)')
    .action(async (id: string, node: string, options: { stream: LogStream; json?: boolean }) => {
      setExit(await logsCommand(context(), id, node, options));
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

  program
    .command('hint')
    .description("Send guidance to a queued or running run; it goes into the agent's next prompt.")
    .argument('<id>', 'run id', runId)
    .argument('<text...>', 'the hint (words are joined); "-" reads it from standard input')
    .option('--json', 'print the hint as JSON')
    .action(async (id: string, words: string[], options: { json?: boolean }) => {
      setExit(await hintCommand(context(), id, words, options));
    });

  program
    .command('rerun')
    .description('Run a finished run again from a stage, keeping what came before it.')
    .argument('<id>', 'run id', runId)
    .addOption(
      new Option('--from <stage>', 'the first stage to run again').choices(RerunStage.options).makeOptionMandatory(),
    )
    .option('-w, --watch', 'then follow the rerun like `autolab watch` (exit code: its outcome)')
    .option('--plain', `with --watch: ${PLAIN_HELP}`)
    .option('--json', 'print the run record as JSON (with --watch: then one event per line)')
    .action(async (id: string, options: RerunOptions) => {
      setExit(await rerunCommand(context(), id, options));
    });

  const keys = program
    .command('keys')
    .description('Manage API keys (needs an admin key in AUTOLAB_API_KEY).')
    .addHelpText('after', EXIT_CODES_HELP);
  keys
    .command('create')
    .description('Create an API key for a tenant; the key is printed once and cannot be shown again.')
    .requiredOption('--tenant <name>', 'the tenant the key acts for (it sees only its own runs)')
    .option('--name <name>', 'a label for the key (who or what uses it)')
    .option('--admin', 'the key may do everything, for every tenant, and manage keys (same as --scope admin)')
    .option(
      '--scope <scopes>',
      'what the key may do, comma-separated: runs:read (list, watch, download), runs:write (submit, cancel, hint, ' +
        'rerun), admin (default: runs:read,runs:write)',
    )
    .option(
      '--expires <when>',
      'when the key stops working: a duration (90m, 12h, 30d) or an ISO date (default: never)',
    )
    .option('--json', 'print {id, key, tenant, name, admin, scopes, createdAt, expiresAt} as JSON')
    .action(async (options: CreateKeyOptions) => {
      setExit(await createKeyCommand(context(), options));
    });
  keys
    .command('list')
    .description('List the API keys (never the keys themselves).')
    .option('--json', 'print the list as JSON')
    .action(async (options: { json?: boolean }) => {
      setExit(await listKeysCommand(context(), options));
    });
  keys
    .command('revoke')
    .description('Revoke an API key; requests with it are refused from then on.')
    .argument('<keyId>', 'the id `keys list` shows (not the key itself)')
    .action(async (keyId: string) => {
      setExit(await revokeKeyCommand(context(), keyId));
    });

  return program;
}

/** Runs one command line (without `node` and the script) and returns the exit code; never throws. */
export async function runCli(argv: string[], deps: CliDeps = {}): Promise<ExitCode> {
  const env = deps.env ?? process.env;
  const io = deps.io ?? processIo;
  let exitCode: ExitCode = ExitCode.Ok;
  let apiKeySet = false;
  const context = (): CliContext => {
    const config = loadConfig(env);
    apiKeySet = config.apiKey !== null;
    return {
      client: new ApiClient({ baseUrl: config.baseUrl, apiKey: config.apiKey, fetch: deps.fetch }),
      io,
      follow: deps.follow ?? {},
      clock: deps.clock ?? {},
      display: config.display,
      live: { ...DEFAULT_LIVE_OPTIONS, ...deps.live },
    };
  };
  const program = buildProgram(context, io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const message = describeError(error, { apiKeySet });
    if (message !== null) io.err(`autolab: ${message}\n`);
    if (isDebug(env) && error instanceof Error && error.stack) io.err(`${error.stack}\n`);
    return exitCodeFor(error);
  }
}
