import { INPUT_MOUNT } from '@autolab/contracts';
import { z } from 'zod';
import { type ExecResult, type Sandbox, SandboxStepError } from './ports.js';
import type { RunContext } from './run-context.js';
import { oneLine } from './text.js';

/**
 * One candidate scored by the user's evaluator, inside a sandbox (docs/evolve.md has the contract). The sandbox holds
 * the user's code upload at /workspace/input/code/ and the evaluator at /workspace/input/evaluator/, read-only. The
 * candidate program is written into the empty /workspace under its own name, the upload's other files are copied
 * beside it (so the program imports its siblings as it did), and the evaluator runs with the program's path as its
 * argument and /workspace as its working directory, where it writes metrics.json and correct.json. The wrapper then
 * prints both files on one marked line, last, which is all the engine reads back: no file of the workspace is copied
 * out.
 */

const EVALUATOR_DIR = `${INPUT_MOUNT}/evaluator`;
const CODE_DIR = `${INPUT_MOUNT}/code`;
const RESULT_MARKER = '@@AUTOLAB_EVOLVE_RESULT@@';
/** What is read of metrics.json and correct.json (the rest is cut, and the file then fails to parse: a clear error). */
const MAX_RESULT_FILE_BYTES = 64 * 1024;

/** The engine's wrapper, run as the sandbox's command: copy the siblings, run the evaluator, report its two files. */
const WRAPPER = String.raw`
import json, os, shutil, subprocess, sys

program, evaluator, code_dir, cap = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if os.path.isdir(code_dir):
    for root, dirs, files in os.walk(code_dir):
        rel = os.path.relpath(root, code_dir)
        for name in files:
            target = os.path.normpath(os.path.join('/workspace', rel, name))
            if os.path.exists(target):
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                shutil.copyfile(os.path.join(root, name), target)
            except OSError:
                pass
for stale in ('metrics.json', 'correct.json'):
    if os.path.lexists(stale):
        os.remove(stale)
sys.stdout.flush()
code = subprocess.call([sys.executable, evaluator, program])

def read(name):
    try:
        with open(name, 'rb') as f:
            return f.read(cap).decode('utf-8', 'replace')
    except OSError:
        return None

print('\n' + '${RESULT_MARKER}' + json.dumps({'exit': code, 'metrics': read('metrics.json'), 'correct': read('correct.json')}), flush=True)
`;

export interface Evaluation {
  status: 'evaluated' | 'incorrect' | 'failed';
  score: number | null;
  metrics: Record<string, number>;
  error: string | null;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
}

const Reported = z.object({ exit: z.number().int(), metrics: z.string().nullable(), correct: z.string().nullable() });
const CorrectFile = z.object({ correct: z.boolean(), error: z.string().optional() });

/** Scores `program` (the file `fileName`) with the evaluator `evaluatorEntry` in `sandbox`. */
export async function evaluateCandidate(
  ctx: RunContext,
  sandbox: Sandbox,
  program: { fileName: string; text: string },
  evaluatorEntry: string,
): Promise<Evaluation> {
  const remainingMs = ctx.input.deadline - ctx.ports.clock.now();
  const timeoutMs = Math.max(5000, Math.min(ctx.input.sandbox.execTimeoutSeconds * 1000, remainingMs));
  let exec: ExecResult;
  try {
    const outcome = await sandbox.runProgram({
      files: [
        { path: program.fileName, content: Buffer.from(program.text) },
        { path: '_autolab_evaluate.py', content: Buffer.from(WRAPPER) },
      ],
      command: [
        'python3',
        '_autolab_evaluate.py',
        program.fileName,
        `${EVALUATOR_DIR}/${evaluatorEntry}`,
        CODE_DIR,
        String(MAX_RESULT_FILE_BYTES),
      ],
      exec: { timeoutMs, signal: ctx.signal, env: { AUTOLAB_PROGRAM: program.fileName } },
      // Nothing is copied out: the result comes back on the wrapper's last line.
      outputs: { maxFiles: 0, maxFileBytes: 0, maxTotalBytes: 0 },
    });
    exec = outcome.exec;
  } catch (err) {
    if (!(err instanceof SandboxStepError)) throw err;
    ctx.throwIfInterrupted();
    return failed(`the candidate could not be put into the sandbox: ${err.message}`, 0, '', '');
  }
  ctx.throwIfInterrupted();
  return readEvaluation(exec, Math.round(timeoutMs / 1000));
}

/** The verdict from the wrapper's output (pure: unit-tested on its own). */
export function readEvaluation(exec: ExecResult, timeoutSeconds: number): Evaluation {
  const stdout = exec.stdout.text;
  const at = stdout.lastIndexOf(RESULT_MARKER);
  const shownStdout = (at >= 0 ? stdout.slice(0, at) : stdout).slice(-4000);
  const stderrTail = exec.stderr.text.slice(-4000);
  const fail = (why: string) => failed(why, exec.durationMs, shownStdout, stderrTail);
  if (exec.timedOut) return fail(`the evaluation did not finish within ${timeoutSeconds} s`);
  if (exec.outOfMemory) return fail('the evaluation ran out of memory');
  if (exec.sandboxLost) return fail(`the sandbox ended during the evaluation: ${exec.sandboxLost}`);
  if (at < 0) return fail(`the evaluation ended without a result (exit ${exec.exitCode}): ${lastLine(stderrTail)}`);
  let reported: z.infer<typeof Reported>;
  try {
    reported = Reported.parse(JSON.parse(stdout.slice(at + RESULT_MARKER.length).split('\n')[0]!));
  } catch {
    return fail('the evaluation result line could not be read');
  }
  if (reported.exit !== 0) return fail(`evaluate.py exited with ${reported.exit}: ${lastLine(stderrTail)}`);
  if (reported.metrics === null) return fail('evaluate.py wrote no metrics.json');
  const metrics = numericMetrics(reported.metrics);
  if (!metrics) return fail('metrics.json is not a JSON object');
  const score = metrics.score;
  let correct = { correct: true } as z.infer<typeof CorrectFile>;
  if (reported.correct !== null) {
    const parsed = safeJson(reported.correct);
    const checked = CorrectFile.safeParse(parsed);
    if (!checked.success) return fail('correct.json is not {"correct": true|false, "error"?: "…"}');
    correct = checked.data;
  }
  const base = { metrics, durationMs: exec.durationMs, stdoutTail: shownStdout, stderrTail };
  if (!correct.correct) {
    const why = correct.error ? oneLine(correct.error, 300) : 'the evaluator found the program incorrect';
    return { status: 'incorrect', score: null, error: why, ...base };
  }
  if (score === undefined) return fail('metrics.json has no numeric "score"');
  return { status: 'evaluated', score, error: null, ...base };
}

function failed(error: string, durationMs: number, stdoutTail: string, stderrTail: string): Evaluation {
  return { status: 'failed', score: null, metrics: {}, error, durationMs, stdoutTail, stderrTail };
}

/** The finite numbers of a JSON object (nested values and text are left out), or null when it is not an object. */
function numericMetrics(text: string): Record<string, number> | null {
  const parsed = safeJson(text);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const metrics: Record<string, number> = {};
  for (const [key, value] of Object.entries(parsed).slice(0, 100)) {
    if (typeof value === 'number' && Number.isFinite(value)) metrics[key.slice(0, 64)] = value;
    else if (typeof value === 'boolean') metrics[key.slice(0, 64)] = value ? 1 : 0;
  }
  return metrics;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const lastLine = (text: string): string =>
  oneLine(
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .at(-1) ?? 'no error output',
    300,
  );
