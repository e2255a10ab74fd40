import { HELD_OUT_METRICS, type HeldOutMetric, INPUT_MOUNT, type MetricDirection } from '@autolab/contracts';
import { z } from 'zod';
import { type ExperimentNode, formatNumber, goodNodes, isBetter } from './journal.js';
import type { Claim } from './paper-latex.js';
import { escapeLatex, latexNumber } from './paper-latex.js';
import { type Sandbox, SandboxStepError } from './ports.js';
import type { RunContext } from './run-context.js';

/**
 * How the run is graded on data the agent never sees (the engine is told the metric and the grader's entry point,
 * never the hidden files: those exist only in the grading sandbox, at /workspace/input/hidden/).
 */
export interface HeldOutEvaluation {
  /** A built-in metric, or `score` for the user's grader. */
  metric: string;
  direction: MetricDirection;
  /** The user's grading program inside the grading sandbox (relative to /workspace/input/grader/); null: built-in. */
  graderEntry: string | null;
}

export const PREDICTIONS_FILE = 'predictions.csv';
/** Nodes graded on the held-out data: the best by validation and the runners-up. */
export const GRADED_NODES = 3;
const HIDDEN_DIR = `${INPUT_MOUNT}/hidden`;
const GRADER_DIR = `${INPUT_MOUNT}/grader`;

export const HeldOutResult = z.object({
  metric: z.string(),
  direction: z.enum(['maximize', 'minimize']),
  grader: z.enum(['builtin', 'user']),
  graded: z.array(
    z.object({
      nodeId: z.string(),
      validation: z.number(),
      value: z.number().nullable(),
      reason: z.string().nullable(),
    }),
  ),
  best: z.object({ nodeId: z.string(), value: z.number() }).nullable(),
  bestByValidation: z.string(),
});
export type HeldOutResult = z.infer<typeof HeldOutResult>;

/** The evaluation for a run's `inputs.evaluation`: a built-in metric, or the user's grader scored as `score`. */
export function heldOutEvaluation(
  evaluation: { metric?: HeldOutMetric; direction?: MetricDirection },
  graderEntry: string | null,
): HeldOutEvaluation {
  const metric = graderEntry === null ? evaluation.metric! : 'score';
  const direction = evaluation.direction ?? (graderEntry === null ? HELD_OUT_METRICS[evaluation.metric!] : 'maximize');
  return { metric, direction, graderEntry };
}

/**
 * The built-in grader, run in the grading sandbox. It prints one JSON line: `{"value", "n"}` or `{"error"}`. Its
 * errors describe the predictions (the agent's file) and counts, never a value from the hidden answers.
 */
export const BUILTIN_GRADER = String.raw`
import json, os, sys
import numpy as np
import pandas as pd

metric, predictions_path, hidden_dir = sys.argv[1], sys.argv[2], sys.argv[3]

def fail(message):
    print(json.dumps({'error': message}))
    sys.exit(0)

csvs = []
for dirpath, dirnames, filenames in os.walk(hidden_dir):
    csvs += [os.path.join(dirpath, f) for f in filenames if f.lower().endswith('.csv')]
if len(csvs) != 1:
    fail(f'the hidden upload must hold exactly one CSV file of answers (it holds {len(csvs)})')
try:
    answers = pd.read_csv(csvs[0], dtype={'id': str})
except Exception:
    fail('the hidden answers could not be read as CSV')
if 'id' not in answers.columns or 'label' not in answers.columns:
    fail("the hidden answers need an 'id' and a 'label' column")
if not os.path.exists(predictions_path):
    fail('the program wrote no predictions.csv')
try:
    pred = pd.read_csv(predictions_path, dtype={'id': str})
except Exception as e:
    fail(f'predictions.csv is not a readable CSV file ({type(e).__name__})')
missing_columns = [c for c in ('id', 'prediction') if c not in pred.columns]
if missing_columns:
    shown = ', '.join(str(c)[:40] for c in list(pred.columns)[:10])
    fail(f"predictions.csv has no {' and no '.join(repr(c) for c in missing_columns)} column (its columns: {shown})")
pred['id'] = pred['id'].astype(str).str.strip()
answers['id'] = answers['id'].astype(str).str.strip()
duplicated = int(pred['id'].duplicated().sum())
if duplicated:
    fail(f'predictions.csv names {duplicated} id(s) more than once')
merged = answers[['id', 'label']].merge(pred[['id', 'prediction']], on='id', how='left')
missing = int(merged['prediction'].isna().sum())
if missing:
    fail(f'predictions.csv has no prediction for {missing} of the {len(answers)} held-out ids')
extra = int((~pred['id'].isin(answers['id'])).sum())
if extra:
    fail(f'predictions.csv has {extra} id(s) that are not in the held-out set')
truth, guess = merged['label'], merged['prediction']
from sklearn import metrics as M  # here, not at the top: predictions that cannot be graded are told so sooner

def numbers(series, what):
    values = pd.to_numeric(series, errors='coerce')
    if values.isna().any():
        fail(f'{what} must be numbers for {metric} ({int(values.isna().sum())} are not)')
    return values.to_numpy(dtype=float)

def same_kind(a, b):
    # Labels 1 and predictions 1.0 are the same class; otherwise classes compare as text.
    na, nb = pd.to_numeric(a, errors='coerce'), pd.to_numeric(b, errors='coerce')
    if not na.isna().any() and not nb.isna().any():
        return na.to_numpy(dtype=float), nb.to_numpy(dtype=float)
    return a.astype(str).str.strip().to_numpy(), b.astype(str).str.strip().to_numpy()

def positive_class(labels):
    classes = sorted(set(labels.tolist()))
    if len(classes) != 2:
        fail(f'{metric} needs two classes in the held-out labels (they have {len(classes)})')
    return (labels == classes[1]).astype(int)

if metric == 'accuracy':
    t, g = same_kind(truth, guess)
    value = M.accuracy_score(t, g)
elif metric == 'f1':
    t, g = same_kind(truth, guess)
    value = M.f1_score(t, g, average='macro')
elif metric in ('rmse', 'mae'):
    t, g = numbers(truth, 'the held-out labels'), numbers(guess, 'the predictions')
    value = float(np.sqrt(M.mean_squared_error(t, g))) if metric == 'rmse' else M.mean_absolute_error(t, g)
elif metric in ('auc', 'logloss'):
    t, _ = same_kind(truth, truth)
    y = positive_class(t)
    p = numbers(guess, 'the predictions (probabilities of the positive class)')
    if metric == 'auc':
        value = M.roc_auc_score(y, p)
    else:
        if ((p < 0) | (p > 1)).any():
            fail('the predictions must be probabilities between 0 and 1 for logloss')
        value = M.log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])
else:
    fail(f'unknown metric {metric}')
print(json.dumps({'value': float(value), 'n': int(len(answers))}))
`;

/**
 * Runs the user's grader in the grading sandbox and prints one JSON line: `{"value", "metrics"}` or `{"error"}`.
 * The grader's own output goes nowhere (it may print hidden answers); only the numbers of score.json come back.
 */
export const USER_GRADER_WRAPPER = String.raw`
import json, math, os, subprocess, sys
entry, predictions_path, hidden_dir, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])

def fail(message):
    print(json.dumps({'error': message}))
    sys.exit(0)

if not os.path.exists(predictions_path):
    fail('the program wrote no predictions.csv')
env = dict(os.environ, PREDICTIONS=predictions_path, HIDDEN_DIR=hidden_dir)
try:
    done = subprocess.run([sys.executable, entry, predictions_path, hidden_dir], cwd='/workspace', env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=timeout)
except subprocess.TimeoutExpired:
    fail(f'the grader did not finish within {int(timeout)} s')
if done.returncode != 0:
    fail(f'the grader exited with code {done.returncode} (its output is not shown: it may contain held-out data)')
try:
    with open('/workspace/score.json') as f:
        score = json.load(f)
except FileNotFoundError:
    fail('the grader wrote no score.json')
except Exception:
    fail('the grader wrote a score.json that is not JSON')
if not isinstance(score, dict):
    fail('score.json must be a JSON object with a numeric "score"')
value = score.get('score')
if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
    fail('score.json has no finite numeric "score"')
extra = {k[:64]: float(v) for k, v in list(score.items())[:20]
         if k != 'score' and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
print(json.dumps({'value': float(value), 'metrics': extra}))
`;

const GradeOutput = z.union([
  z.object({ value: z.number(), n: z.number().optional(), metrics: z.record(z.string(), z.number()).optional() }),
  z.object({ error: z.string() }),
]);

/** The nodes to grade: the best working non-ablation nodes by the run's (validation) metric, best first. */
export function nodesToGrade(nodes: ExperimentNode[], direction: MetricDirection): ExperimentNode[] {
  const candidates = goodNodes(nodes).filter((n) => n.operator !== 'ablation');
  // Stable: among equal values the model's preferred node, then the earlier one, comes first (as bestNode picks).
  const ranked = [...candidates].sort((a, b) => {
    if (a.primary !== b.primary) return isBetter(a.primary!, b.primary!, direction) ? -1 : 1;
    return Number(b.preferred) - Number(a.preferred);
  });
  return ranked.slice(0, GRADED_NODES);
}

/**
 * After the search: grades the best nodes' predictions.csv against the hidden files, in a sandbox of its own that
 * alone holds them (no network, no experiment code ever runs there). The score never reaches a prompt of the search
 * (it is measured after it); the paper and the reviewers get it. Nodes that cannot be graded get a reason.
 */
export async function heldOutStage(ctx: RunContext): Promise<void> {
  const evaluation = ctx.input.evaluation;
  const { state } = ctx;
  if (!evaluation || state.heldOut !== null) return;
  const plan = state.plan!;
  const candidates = nodesToGrade(state.nodes, plan.metric.direction);
  if (candidates.length === 0) {
    await ctx.sink.progress({ heldOut: null });
    await ctx.emit({
      type: 'warning',
      message: 'No experiment worked, so nothing was graded on the held-out data.',
      data: { code: 'held_out_not_graded', detail: 'no working experiment' },
    });
    return;
  }
  const graded: HeldOutResult['graded'] = [];
  const sandbox = await ctx.ports.sandboxes.open('grader', ctx.signal);
  try {
    for (const node of candidates) {
      ctx.throwIfInterrupted();
      const grade = await gradeNode(ctx, evaluation, sandbox, node);
      graded.push({ nodeId: node.id, validation: node.primary!, ...grade });
    }
  } finally {
    await sandbox.close().catch(() => undefined);
  }
  let best: HeldOutResult['best'] = null;
  for (const g of graded) {
    if (g.value === null) continue;
    if (!best || isBetter(g.value, best.value, evaluation.direction)) best = { nodeId: g.nodeId, value: g.value };
  }
  const result: HeldOutResult = {
    metric: evaluation.metric,
    direction: evaluation.direction,
    grader: evaluation.graderEntry === null ? 'builtin' : 'user',
    graded,
    best,
    bestByValidation: candidates[0]!.id,
  };
  state.heldOut = result;
  await ctx.sink.saveArtifact('held-out.json', JSON.stringify(result, null, 2));
  // Saved before it is announced: a worker killed after the event does not grade (and announce) again.
  await ctx.checkpoint();
  await ctx.sink.progress({
    heldOut: best
      ? { metric: result.metric, value: best.value, direction: result.direction, nodeId: best.nodeId }
      : null,
  });
  await ctx.emit({ type: 'evaluation.scored', message: heldOutMessage(result), data: result });
}

async function gradeNode(
  ctx: RunContext,
  evaluation: HeldOutEvaluation,
  sandbox: Sandbox,
  node: ExperimentNode,
): Promise<{ value: number | null; reason: string | null }> {
  const predictions = await ctx.sink.loadArtifact(`nodes/${node.id}/files/${PREDICTIONS_FILE}`);
  if (!predictions)
    return {
      value: null,
      reason: `${node.id} wrote no ${PREDICTIONS_FILE} in its working directory${node.skippedOutputs ? ` (${node.skippedOutputs})` : ''}`,
    };
  const timeoutMs = ctx.input.sandbox.execTimeoutSeconds * 1000;
  const command =
    evaluation.graderEntry === null
      ? ['python3', '-c', BUILTIN_GRADER, evaluation.metric, PREDICTIONS_FILE, HIDDEN_DIR]
      : [
          'python3',
          '-c',
          USER_GRADER_WRAPPER,
          `${GRADER_DIR}/${evaluation.graderEntry}`,
          `/workspace/${PREDICTIONS_FILE}`,
          HIDDEN_DIR,
          String(Math.max(5, timeoutMs / 1000 - 5)),
        ];
  try {
    await sandbox.reset();
    await sandbox.writeFiles([{ path: PREDICTIONS_FILE, content: predictions }]);
    const result = await sandbox.exec(command, { timeoutMs, signal: ctx.signal });
    ctx.throwIfInterrupted();
    if (result.timedOut) return { value: null, reason: `grading timed out after ${timeoutMs / 1000} s` };
    if (result.outOfMemory) return { value: null, reason: 'grading ran out of memory' };
    const line = result.stdout.text.trim().split('\n').at(-1) ?? '';
    let parsed: z.infer<typeof GradeOutput> | null = null;
    try {
      parsed = GradeOutput.parse(JSON.parse(line));
    } catch {
      parsed = null;
    }
    // The grading script's own failure (exit code, traceback) is not shown: the traceback may quote hidden data.
    if (!parsed) return { value: null, reason: `the grading step failed (exit code ${result.exitCode})` };
    if ('error' in parsed) return { value: null, reason: parsed.error };
    if (!Number.isFinite(parsed.value)) return { value: null, reason: 'the held-out score is not a finite number' };
    return { value: parsed.value, reason: null };
  } catch (err) {
    if (!(err instanceof SandboxStepError)) throw err;
    ctx.throwIfInterrupted();
    return { value: null, reason: `the grading sandbox failed: ${err.message}` };
  }
}

function heldOutMessage(r: HeldOutResult): string {
  const scores = r.graded
    .map((g) => `${g.nodeId} ${g.value === null ? `not graded (${g.reason})` : formatNumber(g.value)}`)
    .join('; ');
  const disagreement =
    r.best && r.best.nodeId !== r.bestByValidation
      ? ` The best on held-out data (${r.best.nodeId}) is not the node the search chose (${r.bestByValidation}).`
      : '';
  return `Held-out ${r.metric}: ${scores}.${disagreement}`;
}

/**
 * The paper's held-out table and macros: validation and held-out score per graded node, with the gap; the caption
 * says so when the search's choice is not the best node on held-out data. Empty for a run without evaluation.
 */
export function heldOutPaper(
  result: HeldOutResult | null,
  validationMetric: string,
): {
  tex: string;
  table: string;
  preview: string;
  claims: Claim[];
  macros: { name: string; meaning: string; value: string }[];
} {
  if (!result) return { tex: '', table: '', preview: '', claims: [], macros: [] };
  const claims: Claim[] = [];
  const metric = escapeLatex(result.metric);
  const body = result.graded.map((g) => {
    const validation = latexNumber(g.validation);
    if (g.value === null)
      return `${g.nodeId} & ${validation} & \\multicolumn{2}{l}{not graded: ${escapeLatex(g.reason ?? '')}} \\\\`;
    claims.push({
      id: `tab:heldout:${g.nodeId}`,
      kind: 'table_cell',
      value: g.value,
      shown: latexNumber(g.value),
      nodeId: g.nodeId,
      artifact: 'held-out.json',
      key: result.metric,
      where: 'tab:heldout',
    });
    const shown = g.nodeId === result.best?.nodeId ? `\\textbf{${latexNumber(g.value)}}` : latexNumber(g.value);
    const gap = g.value - g.validation;
    return `${g.nodeId}${g.nodeId === result.bestByValidation ? ' (chosen)' : ''} & ${validation} & ${shown} & ${gap >= 0 ? '+' : ''}${latexNumber(gap)} \\\\`;
  });
  const disagrees = result.best !== null && result.best.nodeId !== result.bestByValidation;
  const caption =
    `Held-out evaluation, measured by the service on data the experiments never saw (${result.grader === 'user' ? "the user's grader" : `built-in \\texttt{${metric}}`}, ${result.direction === 'maximize' ? 'higher' : 'lower'} is better). ` +
    `Validation is each program's own \\texttt{${escapeLatex(validationMetric)}}; gap is held-out minus validation. ` +
    (disagrees
      ? `The program chosen by validation (${result.bestByValidation}) is not the best on held-out data (${result.best!.nodeId}).`
      : result.best
        ? `The program chosen by validation (${result.bestByValidation}) is also the best on held-out data.`
        : 'No program could be graded.');
  const table = [
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${caption}}`,
    '\\label{tab:heldout}',
    '\\begin{tabular}{lrrr}',
    '\\toprule',
    `Experiment & Validation & Held-out \\texttt{${metric}} & Gap \\\\`,
    '\\midrule',
    ...body,
    '\\bottomrule',
    '\\end{tabular}',
    '\\end{table}',
  ].join('\n');
  const macros = [
    {
      name: '\\heldoutvalue',
      meaning: `best held-out ${result.metric} (measured by the service)`,
      value: result.best ? latexNumber(result.best.value) : 'n/a',
    },
    { name: '\\heldoutnode', meaning: 'experiment with the best held-out score', value: result.best?.nodeId ?? 'n/a' },
  ];
  if (result.best)
    claims.push({
      id: 'macro:\\heldoutvalue',
      kind: 'macro',
      value: result.best.value,
      shown: latexNumber(result.best.value),
      nodeId: result.best.nodeId,
      artifact: 'held-out.json',
      key: result.metric,
      where: 'results.tex',
    });
  const tex = macros.map((m) => `\\newcommand{${m.name}}{${m.value}}`).join('\n');
  const preview = [
    `Table~\\ref{tab:heldout} (held-out ${result.metric}, measured by the service after the search): | experiment | validation | held-out | gap |`,
    ...result.graded.map((g) =>
      g.value === null
        ? `| ${g.nodeId} | ${formatNumber(g.validation)} | not graded: ${g.reason} | |`
        : `| ${g.nodeId}${g.nodeId === result.bestByValidation ? ' (chosen)' : ''} | ${formatNumber(g.validation)} | ${formatNumber(g.value)} | ${formatNumber(g.value - g.validation)} |`,
    ),
    disagrees
      ? `The program chosen by validation (${result.bestByValidation}) is NOT the best on held-out data (${result.best!.nodeId}): say so.`
      : '',
  ]
    .filter(Boolean)
    .join('\n');
  return { tex, table, preview, claims, macros };
}

/** What the prompts of a run with a held-out test say about it (the contract for predictions.csv). */
export function heldOutContract(evaluation: HeldOutEvaluation | null): string {
  if (!evaluation) return '';
  const what =
    evaluation.graderEntry === null
      ? `the service computes ${evaluation.metric} (${evaluation.direction === 'maximize' ? 'higher' : 'lower'} is better)${evaluation.metric === 'auc' || evaluation.metric === 'logloss' ? ' from the predicted probability of the positive class' : ''}`
      : "the user's grading program scores it";
  return `\nHeld-out test: the user keeps the answers for a set of examples the experiments never see (their inputs, without answers, are among the user's files; the goal says which). Every experiment program MUST also write ${PREDICTIONS_FILE} in the working directory: one row per held-out example, with an \`id\` column and a \`prediction\` column. After the search, ${what} for the best programs. Select and tune on your own validation split of the training data; the held-out score is not available during the search.\n`;
}
