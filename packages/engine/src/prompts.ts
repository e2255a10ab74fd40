import { type ExperimentStage, INPUT_MOUNT, type Template } from '@autolab/contracts';
import {
  bestNode,
  buggyNodes,
  type ExperimentNode,
  formatNumber,
  goodNodes,
  insightLine,
  type Operator,
  type ResearchPlan,
} from './journal.js';
import type { Idea, PaperSections } from './persisted-shapes.js';
import { clip, tail } from './text.js';
import type { Review } from './tools.js';
import { STAGES } from './tree-search.js';

/**
 * Every prompt the engine uses, in one place (the tools the model answers with are in tools.ts). Experiment prompts carry a bounded journal (the best few
 * nodes, recent failures, distilled insights, a few recent lines), never the whole history, so their size stays
 * flat however large the tree grows.
 *
 * Every prompt is ordered static-first: what stays the same from one call to the next (the goal, the plan, the
 * stage, the code being improved, a paper being reviewed) comes first, what changes (the journal, the latest output,
 * counts, hints, errors) last, so that providers' prefix caches serve the shared beginning of consecutive calls at
 * their cached rate (docs/models.md, "Prompt order"). The system text and the tools go before every prompt.
 */

const CODE_LIMIT = 12_000;
const TAIL_LIMIT = 2_000;
const TOP_NODES = 3;
const RECENT_LINES = 4;
const RECENT_FAILURES = 3;
export const MAX_INSIGHTS = 8;

// ---------------------------------------------------------------- system prompts

export interface SandboxFacts {
  timeoutSeconds: number;
  memoryMb: number;
  cpus: number;
  /** An image other than the built-in one, and what its operator says it offers. */
  image?: { name: string; packages: readonly string[] } | undefined;
}

const BUILTIN_STACK =
  'Python 3.11 with numpy, scipy, pandas, matplotlib (Agg backend), seaborn, scikit-learn, statsmodels, tqdm, torch (CPU).';

function stackLine(image: SandboxFacts['image']): string {
  if (!image || image.name === 'python') return BUILTIN_STACK;
  const offers = image.packages.length > 0 ? image.packages.join(', ') : 'what its operator did not list';
  return `The sandbox image "${image.name}" with Python 3 and: ${offers}. Use only what it offers.`;
}

const RESEARCHER = `You are a careful empirical researcher. You answer research questions by writing small, honest,
reproducible experiments, running them, and reading what they really measured. You never invent numbers.`;

export const IDEATION_SYSTEM = `${RESEARCHER}
Propose research ideas that small computational experiments can test: CPU only, no network (data must be generated
or simulated), minutes of compute. Each idea has ONE primary metric that an experiment program can compute and write
to results.json, with its direction. Score each idea honestly from 1 to 10 for interestingness, feasibility and
novelty. Always answer by calling the tool you are given.`;

export function experimentSystemPrompt(sandbox: SandboxFacts): string {
  return `${RESEARCHER}

Your programs run as \`python3 experiment.py\` in /workspace inside a sandbox:
- ${stackLine(sandbox.image)}
- NO network access: generate or simulate data; nothing can be downloaded.
- Limits: ${sandbox.cpus} CPU core(s), ${sandbox.memoryMb} MB of memory, ${sandbox.timeoutSeconds} s of wall clock.
  Keep runs well inside them.
- Only /workspace and /tmp are writable.
- Seed every random number generator from the environment variable SEED (default 0):
  \`seed = int(os.environ.get("SEED", "0"))\`. The best program is re-run with other seeds.
The program MUST write results.json in the working directory: a JSON object whose numeric values are the measured
metrics (nested objects allowed), including the primary metric under its exact name. It may save figures as PNG
files in the working directory. Print short progress lines. Always answer by calling one of the tools you are given.`;
}

export const JUDGE_SYSTEM = `${RESEARCHER}
You judge one execution of an experiment program from its real output. Flag it as a bug when it crashed, when its
numbers cannot be trusted (NaN or inf, test data used for training or selection, a metric that does not measure what
the plan says), or when it did not do what its plan says. Report a metric value only if results.json lacks it and
the value is printed verbatim in the output. Always answer by calling the tool you are given.`;

export const PLOT_SYSTEM = `You write matplotlib code that turns recorded experiment results into clear, honest
figures for a paper (labelled axes with units, legends, log scales where values span orders of magnitude). The code
reads the JSON files in the working directory, never invents data, and saves each figure as a PNG file. Python 3.11
with numpy, pandas, matplotlib (Agg backend), seaborn; no network. Always answer by calling the tool you are given.`;

export const WRITER_SYSTEM = `You write concise, precise research papers in LaTeX. You are given what the experiments
really measured. Rules:
- Write LaTeX fragments for each section: no preamble, no \\section commands, no \\begin{document}.
- NEVER type a measured number. Use the macros, which expand to the recorded values:
  \\result{<metric name>} (the value in the best experiment), \\noderesult{<node id>}{<metric name>},
  \\bestvalue, \\metricname, \\numexperiments, \\numfailed, \\bestiteration, \\firstvalue, \\seedmean, \\seedstd,
  \\numseeds.
- Do not include tables or figures: the results tables and figures are added for you (refer to them as
  Table~\\ref{tab:results}, Table~\\ref{tab:ablations} and Figure~\\ref{fig:1}, \\ref{fig:2}, … as listed).
- Cite only with \\cite{key} using the keys you are given; with no keys given, cite nothing.
- pdflatex sets accented Latin letters and typographic punctuation as typed; write Greek letters and symbols in
  math mode ($\\alpha$, $\\leq$). Emoji and CJK characters cannot be printed and are removed.
- Be honest about limitations: these are small automated experiments.
Always answer by calling the tool you are given.`;

export const REVIEWER_SYSTEM = `You are an expert reviewer for a machine-learning venue (NeurIPS guidelines). You review
the submitted paper critically and fairly: soundness (1-4), presentation (1-4), contribution (1-4), overall (1-10,
6 = marginally above the acceptance threshold), confidence (1-5) and a decision. Always answer by calling the tool
you are given.`;

// ---------------------------------------------------------------- ideation

export function ideasPrompt(goal: string, count: number, hints: string[]): string {
  return `Research goal:\n${goal}\n\nPropose ${count} distinct research ideas for this goal.\n${hintBlock(hints)}`;
}

/**
 * What ideation is told about the built-in template a run starts from: the metric its baseline records (kept, so that
 * every experiment is compared with the baseline), the baseline itself, and the template's seed ideas.
 */
export function templateIdeasBlock(template: Template | null | undefined): string {
  if (!template) return '';
  const { name, title, metric, baselineCode, seedIdeas } = template;
  const ideas = seedIdeas.map((idea) => `- ${idea.title}: ${idea.hypothesis}`).join('\n');
  return `
This run starts from the built-in template "${name}" (${title}). Its baseline program runs as it is as the first
experiment and records the primary metric "${metric.name}" (${metric.direction}): ${metric.description}
Keep that primary metric, under that exact name and direction, so that every experiment is measured against the
baseline. The baseline (${INPUT_MOUNT}/code/baseline.py):
\`\`\`python
${clip(baselineCode, CODE_LIMIT)}
\`\`\`
${ideas ? `Ideas the template suggests (start from them, sharpen them or replace them):\n${ideas}\n` : ''}`;
}

export interface LiteratureNote {
  query: string;
  papers: { key: string; title: string; year: number | null; abstract: string | null }[];
}

export function refinePrompt(goal: string, ideas: Idea[], literature: LiteratureNote[], hints: string[]): string {
  const lit =
    literature.length === 0
      ? 'No literature search results are available (the search services could not be reached).'
      : literature
          .map(
            (note) =>
              `Query "${note.query}":\n${
                note.papers.length === 0
                  ? '  (no results)'
                  : note.papers
                      .map(
                        (p) => `  - ${p.title} (${p.year ?? 'n.d.'})${p.abstract ? `: ${clip(p.abstract, 240)}` : ''}`,
                      )
                      .join('\n')
              }`,
          )
          .join('\n');
  return `Research goal:\n${goal}

Your ideas so far:
${ideas.map((idea, i) => `${i + 1}. ${idea.title} — ${clip(idea.hypothesis, 400)} [interest ${idea.interestingness}, feasibility ${idea.feasibility}, novelty ${idea.novelty}]`).join('\n')}

What the literature search found:
${lit}

Revise the ideas: sharpen them, drop or change what is already well known (lower its novelty score), keep what is
feasible. Return all ideas.
${hintBlock(hints)}`;
}

// ---------------------------------------------------------------- experiments

export interface JournalView {
  goal: string;
  plan: ResearchPlan;
  nodes: ExperimentNode[];
  insights: string[];
  stage: ExperimentStage;
  stageExperimentsLeft: number;
  hints: string[];
  /** Lessons from the tenant's earlier runs for this step (lessons.ts renders them), or ''. @defaultValue '' */
  lessons?: string;
}

/** The run's goal and plan, and the stage's goal: the same for every step of a stage. */
function planBlock(view: JournalView): string {
  const { plan } = view;
  return `Research goal:\n${view.goal}

Idea: ${plan.title}
Hypothesis: ${plan.hypothesis}
Primary metric: "${plan.metric.name}" (${plan.metric.direction}) — ${plan.metric.description}
Planned experiments: ${clip(plan.plan, 2000)}

Current stage: ${view.stage} — ${STAGES[view.stage].goal}`;
}

/**
 * What the experiments so far found, the parts that change least often first: the distilled insights, the best
 * experiments, recent failures, then the latest experiments (which change with every step).
 */
function journalBlock(view: JournalView, exclude?: ExperimentNode): string {
  const parts: string[] = [];
  if (view.insights.length > 0) parts.push(`What we have learned:\n${view.insights.map((i) => `- ${i}`).join('\n')}`);
  const top = [...goodNodes(view.nodes)]
    .filter((n) => n.operator !== 'ablation')
    .sort((a, b) => (view.plan.metric.direction === 'maximize' ? b.primary! - a.primary! : a.primary! - b.primary!))
    .slice(0, TOP_NODES);
  if (top.length > 0) {
    parts.push(`Best experiments so far:\n${top.map((n) => `- ${insightLine(n, view.nodes, view.plan)}`).join('\n')}`);
  }
  const failures = buggyNodes(view.nodes)
    .filter((n) => n !== exclude)
    .slice(-RECENT_FAILURES);
  if (failures.length > 0) {
    parts.push(
      `Recent failures:\n${failures.map((n) => `- ${n.id}: ${clip(n.error ?? '', 300)}\n  stderr tail: ${tail(n.stderrTail, 400)}`).join('\n')}`,
    );
  }
  const recent = view.nodes.slice(-RECENT_LINES).filter((n) => !top.includes(n));
  if (recent.length > 0) {
    parts.push(
      `Most recent experiments (${view.nodes.length} in total):\n${recent.map((n) => `- ${insightLine(n, view.nodes, view.plan)}`).join('\n')}`,
    );
  }
  return parts.join('\n\n');
}

/** The end of every step's prompt: what is left of the stage, the person's hints, and the task itself. */
function taskBlock(view: JournalView, task: string): string {
  return `${view.stageExperimentsLeft} experiment(s) left in this stage.${hintBlock(view.hints)}\n${task}`;
}

function codeBlock(node: ExperimentNode): string {
  return `\`\`\`python\n${clip(node.code, CODE_LIMIT)}\n\`\`\``;
}

/**
 * The prompt of one experiment step: the plan, then the program the step starts from (the failed one for a debug
 * step, the best one otherwise), then the journal, then the task. Consecutive steps that start from the same best
 * program share everything up to the journal.
 */
export function stepPrompt(view: JournalView, operator: Operator, parent: ExperimentNode | null): string {
  // Lessons from earlier runs change rarely (the same for every draft): they belong to the stable beginning.
  const plan = planBlock(view) + (view.lessons ?? '');
  const journal = journalBlock(view, operator === 'debug' ? (parent ?? undefined) : undefined);
  const metric = view.plan.metric.name;
  switch (operator) {
    case 'draft': {
      const task = `Write a complete experiment program for the planned experiments. It must write results.json with "${metric}".`;
      return `${plan}\n\n${journal}\n\n${taskBlock(view, task)}`;
    }
    case 'debug': {
      const failed = parent!;
      return `${plan}

Experiment ${failed.id} failed: ${failed.error}${failed.skippedOutputs ? `\n${failed.skippedOutputs}` : ''}
Its code:
${codeBlock(failed)}
End of its stderr:
\`\`\`
${tail(failed.stderrTail, TAIL_LIMIT)}
\`\`\`
End of its stdout:
\`\`\`
${tail(failed.stdoutTail, TAIL_LIMIT / 2)}
\`\`\`

${journal}

${taskBlock(view, `Find why ${failed.id} failed and submit the fixed program (keep what was right; change what broke).`)}`;
    }
    default: {
      const best = parent!;
      const metrics = Object.entries(best.metrics)
        .slice(0, 24)
        .map(([k, v]) => `${k}=${formatNumber(v)}`)
        .join(', ');
      const ask: Record<string, string> = {
        improve: `Submit an improved program: one focused, well-motivated change that should improve "${metric}" or strengthen the evidence for the hypothesis (keep comparisons fair).`,
        hyperparameter: `Submit a version with one hyperparameter changed (or a small, honest sweep selected on held-out data) that should improve "${metric}".`,
        ablation: `Submit an ablation: the same program with exactly ONE component removed or replaced, so its contribution to "${metric}" can be measured. Say in the plan what was removed.`,
      };
      return `${plan}

The best experiment so far is ${best.id} with ${metric} = ${formatNumber(best.primary!)}.
All its metrics: ${metrics}
Its code:
${codeBlock(best)}

${journal}

${taskBlock(view, `${ask[operator]} If this stage has achieved its goal, call finish_stage instead.`)}`;
    }
  }
}

export interface JudgeContext {
  plan: ResearchPlan;
  node: Pick<
    ExperimentNode,
    'id' | 'plan' | 'code' | 'exitCode' | 'timedOut' | 'stdoutTail' | 'stderrTail' | 'skippedOutputs'
  >;
  resultsJson: string | null;
  engineVerdict: string;
}

export function judgePrompt(ctx: JudgeContext): string {
  return `Primary metric: "${ctx.plan.metric.name}" (${ctx.plan.metric.direction}) — ${ctx.plan.metric.description}

Experiment ${ctx.node.id}. Plan: ${clip(ctx.node.plan, 1500)}
Code:
\`\`\`python
${clip(ctx.node.code, 8000)}
\`\`\`
Exit code: ${ctx.node.exitCode ?? 'none'}${ctx.node.timedOut ? ' (killed at the time limit)' : ''}
results.json: ${ctx.resultsJson === null ? '(not written)' : clip(ctx.resultsJson, 3000)}${ctx.node.skippedOutputs ? `\nFiles left in the sandbox: ${ctx.node.skippedOutputs}` : ''}
End of stdout:
\`\`\`
${tail(ctx.node.stdoutTail, 2500)}
\`\`\`
End of stderr:
\`\`\`
${tail(ctx.node.stderrTail, 1500)}
\`\`\`
What the engine concluded from the exit code and results.json: ${ctx.engineVerdict}

Judge this execution.`;
}

export function tieBreakPrompt(plan: ResearchPlan, tied: ExperimentNode[]): string {
  const describe = (n: ExperimentNode) =>
    `- ${n.id} (${n.stage}/${n.operator}): ${clip(n.plan, 400)}\n  metrics: ${Object.entries(n.metrics)
      .slice(0, 12)
      .map(([k, v]) => `${k}=${formatNumber(v)}`)
      .join(', ')}`;
  return `Primary metric: "${plan.metric.name}" (${plan.metric.direction}). These experiments reached exactly the same
value (${formatNumber(tied[0]!.primary!)}); choose the one whose method is the better basis for the paper (simpler,
fairer comparison, more informative secondary metrics):
${tied.map(describe).join('\n')}`;
}

// ---------------------------------------------------------------- figures, paper, review

export function plotPrompt(
  plan: ResearchPlan,
  files: string,
  error: string | null,
  startingPoint: string | null = null,
): string {
  const template = startingPoint
    ? `\nA plotting program written for this run's template reads the same files; start from it (adapt it to what the experiments recorded, or replace what does not fit):\n\`\`\`python\n${clip(startingPoint, CODE_LIMIT / 2)}\n\`\`\`\n`
    : '';
  return `The paper studies: ${plan.title}. Hypothesis: ${plan.hypothesis}
Primary metric: "${plan.metric.name}" (${plan.metric.direction}).

Files in the working directory:
${files}
${template}${error ? `\nYour previous plotting program failed:\n\`\`\`\n${tail(error, 2000)}\n\`\`\`\nFix it.\n` : ''}
Write a program that draws 1 to 3 figures that best show the results (e.g. the metric across experiments by stage,
the ablations against the best, the seed spread), saves each as a PNG, and give a caption for each file. Each figure
is printed 6.5 inches wide: make it at most 9 inches wide (figsize) and leave text at the default size (13 pt, set
for you in matplotlibrc) or larger, so every label stays legible.`;
}

export interface PaperContext {
  goal: string;
  plan: ResearchPlan;
  nodes: ExperimentNode[];
  insights: string[];
  macros: { name: string; meaning: string; value: string }[];
  tablePreview: string;
  figures: { label: string; caption: string }[];
  /** `provided`: one of the user's own papers (listed first). */
  references: { key: string; title: string; year: number | null; authors: string[]; provided: boolean }[];
  pageLimit: number;
  hints: string[];
  /** What the run's template says the paper should know about the setting. @defaultValue null */
  templateNotes?: string | null;
}

export function paperPrompt(ctx: PaperContext): string {
  const best = bestNode(ctx.nodes, ctx.plan.metric.direction);
  const refs =
    ctx.references.length === 0
      ? 'No references are available (the literature search found nothing or could not be reached): cite nothing, and make no claim about prior work. The Related Work section says in one or two sentences that no literature search informed this report, and what kind of prior work a reader should compare it with.'
      : ctx.references
          .map(
            (r) =>
              `- ${r.key}: ${r.title} (${r.authors.slice(0, 3).join(', ')}, ${r.year ?? 'n.d.'})${r.provided ? ' [provided by the user: cite it]' : ''}`,
          )
          .join('\n');
  return `Research goal:\n${ctx.goal}

Idea: ${ctx.plan.title}
Hypothesis: ${ctx.plan.hypothesis}
Primary metric: "${ctx.plan.metric.name}" (${ctx.plan.metric.direction}) — ${ctx.plan.metric.description}

What was tried (latest ${Math.min(16, ctx.nodes.length)} of ${ctx.nodes.length}):
${ctx.nodes
  .slice(-16)
  .map((n) => `- ${insightLine(n, ctx.nodes, ctx.plan)}`)
  .join('\n')}

What we learned:
${ctx.insights.map((i) => `- ${i}`).join('\n') || '- (no distilled insights)'}

Best experiment: ${best?.id ?? 'none'}. Its method, as planned: ${clip(best?.plan ?? '', 1500)}
${ctx.templateNotes ? `\nAbout the setting (from the run's template; for the setup and related work, not results):\n${clip(ctx.templateNotes, 4000)}\n` : ''}
The tables that will appear:
${ctx.tablePreview}

Figures that will appear: ${ctx.figures.length === 0 ? 'none' : ctx.figures.map((f) => `Figure~\\ref{${f.label}}: ${f.caption}`).join('; ')}

Macros (they expand to these recorded values; use them instead of typing numbers):
${ctx.macros.map((m) => `- ${m.name} = ${m.value}  (${m.meaning})`).join('\n')}

References you may cite with \\cite{key}:
${refs}
${hintBlock(ctx.hints)}
The paper must fit in ${ctx.pageLimit} pages. Write it.`;
}

export function fixLatexPrompt(sections: PaperSections, problem: string): string {
  return `The sections of the paper as they are now (JSON):
${JSON.stringify(sections, null, 1)}

The paper needs a correction:
\`\`\`
${clip(problem, 3000)}
\`\`\`

Return ALL sections, corrected. Remember: fragments only, macros instead of numbers, no tables or figures, only the
citation keys you were given.`;
}

/** The paper and the held-out result first (the same for every reviewer, so reviewers after the first hit the cache). */
export function reviewPrompt(paperText: string, reviewer: number, focus: string, heldOut = ''): string {
  return `The paper (LaTeX source; tables and numbers in it are generated from recorded experiment results):
${clip(paperText, 24_000)}
${heldOut ? `\nMeasured by the service on a held-out test the authors' programs never saw (weigh the claims against it):\n${heldOut}\n` : ''}
You are reviewer ${reviewer}. Pay particular attention to ${focus}. Review the paper.`;
}

export const REVIEWER_FOCUS = [
  'soundness: do the experiments support the claims?',
  'clarity and presentation',
  'significance and novelty',
  'reproducibility and honesty about limitations',
  'the statistical evidence (seeds, variance, baselines)',
  'related work and positioning',
  'the ablations',
];

export function metaReviewPrompt(paperTitle: string, reviews: Review[]): string {
  return `Paper: ${paperTitle}

The reviews:
${reviews.map((r, i) => `Reviewer ${i + 1} (overall ${r.overall}, confidence ${r.confidence}, ${r.decision}):\nSummary: ${r.summary}\nStrengths: ${r.strengths.join('; ')}\nWeaknesses: ${r.weaknesses.join('; ')}`).join('\n\n')}

Write the meta-review: weigh the reviews and give the final scores and decision.`;
}

export function revisePrompt(sections: PaperSections, meta: Review): string {
  return `The sections of your paper as they are now (JSON):
${JSON.stringify(sections, null, 1)}

The meta-review of your paper:
Summary: ${meta.summary}
Weaknesses: ${meta.weaknesses.join('; ')}
Questions: ${meta.questions.join('; ')}

Revise the paper to address the weaknesses that writing can address (clarity, claims, limitations); you cannot run
new experiments. Return ALL sections. Same rules: macros instead of numbers, no tables or figures, given keys only.`;
}

function hintBlock(hints: string[]): string {
  return hints.length > 0
    ? `\nGuidance from the person who started this run:\n${hints.map((h) => `- ${h}`).join('\n')}\n`
    : '';
}
