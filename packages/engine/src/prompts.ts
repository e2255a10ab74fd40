import { z } from 'zod';
import { bestNode, buggyNodes, clip, type ExperimentNode, formatNumber, insightLine, ResearchPlan } from './journal.js';
import type { ToolSpec } from './ports.js';

/**
 * Every prompt and tool the engine uses, in one place. Prompts carry a bounded journal (the best experiment,
 * recent failures, one line per recent experiment), never the whole history, so their size stays flat.
 */

const CODE_LIMIT = 12_000;
const TAIL_LIMIT = 2_000;
const RECENT_INSIGHTS = 8;
const RECENT_FAILURES = 3;

// ---------------------------------------------------------------- tools

export const ExperimentSubmission = z.object({
  plan: z.string().min(1).max(4000).describe('What this version does and why, in a few sentences.'),
  code: z.string().min(1).max(100_000).describe('The complete Python 3 program (experiment.py).'),
});
export type ExperimentSubmission = z.infer<typeof ExperimentSubmission>;

export const FinishExperiments = z.object({
  reason: z.string().min(1).max(2000).describe('Why further experiments would not change the conclusion.'),
});

export const PaperSections = z.object({
  title: z.string().min(1).max(300),
  abstract: z.string().min(1).max(4000),
  introduction: z.string().min(1).max(12_000),
  method: z.string().min(1).max(12_000),
  results_discussion: z.string().min(1).max(12_000),
  conclusion: z.string().min(1).max(6000),
});
export type PaperSections = z.infer<typeof PaperSections>;

export const TOOLS = {
  plan: {
    name: 'propose_plan',
    description: 'Propose the research plan: a title, a testable hypothesis, the metric that decides it, the plan.',
    schema: ResearchPlan,
  },
  draft: {
    name: 'draft_experiment',
    description: 'Submit a first complete experiment program.',
    schema: ExperimentSubmission,
  },
  debug: {
    name: 'debug_experiment',
    description: 'Submit a fixed version of the failed experiment program.',
    schema: ExperimentSubmission,
  },
  improve: {
    name: 'improve_experiment',
    description: 'Submit an improved version of the best experiment program so far.',
    schema: ExperimentSubmission,
  },
  finish: {
    name: 'finish_experiments',
    description: 'Stop experimenting: the evidence is sufficient to write the paper.',
    schema: FinishExperiments,
  },
  paper: {
    name: 'write_paper',
    description: 'Write the sections of the paper as LaTeX fragments.',
    schema: PaperSections,
  },
  fixLatex: {
    name: 'fix_latex',
    description: 'Return all paper sections again, corrected so that the document compiles.',
    schema: PaperSections,
  },
} satisfies Record<string, ToolSpec<unknown>>;

// ---------------------------------------------------------------- system prompts

export interface SandboxFacts {
  timeoutSeconds: number;
  memoryMb: number;
  cpus: number;
}

const RESEARCHER = `You are a careful empirical researcher. You answer research questions by writing small, honest,
reproducible experiments, running them, and reading what they really measured. You never invent numbers.`;

export function experimentSystemPrompt(sandbox: SandboxFacts): string {
  return `${RESEARCHER}

Your programs run as \`python3 experiment.py\` in /workspace inside a sandbox:
- Python 3.11 with numpy, scipy, pandas, matplotlib (Agg backend), seaborn, scikit-learn, statsmodels, tqdm, torch (CPU).
- NO network access: generate or simulate data; nothing can be downloaded.
- Limits: ${sandbox.cpus} CPU core(s), ${sandbox.memoryMb} MB of memory, ${sandbox.timeoutSeconds} s of wall clock.
  Keep runs well inside them; fix random seeds.
- Only /workspace and /tmp are writable.
The program MUST write results.json in the working directory: a JSON object whose numeric values are the measured
metrics (nested objects allowed), including the plan's primary metric under its exact name. It may save figures as
PNG files in the working directory; they go into the paper. Print short progress lines. Always answer by calling the
tool you are given.`;
}

export const PLANNER_SYSTEM = `${RESEARCHER}
Turn the research goal into a plan that a few small computational experiments can test. Choose ONE primary metric
that the experiment program can compute and write to results.json, and say whether higher or lower is better.
Always answer by calling the tool you are given.`;

export const WRITER_SYSTEM = `You write concise, precise research papers in LaTeX. You are given what the experiments
really measured. Rules:
- Write LaTeX fragments for each section: no preamble, no \\section commands, no \\begin{document}.
- NEVER type a measured number. Use the macros, which expand to the recorded values:
  \\result{<metric name>} (the value in the best experiment), \\noderesult{<node id>}{<metric name>},
  \\bestvalue, \\metricname, \\numexperiments, \\numfailed, \\bestiteration, \\firstvalue.
- Do not include tables or figures: the results table and the figure are added for you (refer to them as
  Table~\\ref{tab:results} and Figure~\\ref{fig:main}).
- Be honest about limitations: these are small automated experiments.
Always answer by calling the tool you are given.`;

// ---------------------------------------------------------------- user prompts

export function planPrompt(goal: string): string {
  return `Research goal:\n${goal}\n\nPropose the plan.`;
}

export interface JournalView {
  goal: string;
  plan: ResearchPlan;
  nodes: ExperimentNode[];
  iterationsLeft: number;
  hints: string[];
}

function planBlock(view: JournalView): string {
  const { plan } = view;
  return `Research goal:\n${view.goal}

Plan: ${plan.title}
Hypothesis: ${plan.hypothesis}
Primary metric: "${plan.metric.name}" (${plan.metric.direction}) — ${plan.metric.description}
Approach: ${clip(plan.plan, 2000)}`;
}

function journalBlock(view: JournalView, exclude?: ExperimentNode): string {
  const parts: string[] = [];
  const recent = view.nodes.slice(-RECENT_INSIGHTS);
  if (recent.length > 0) {
    const skipped = view.nodes.length - recent.length;
    parts.push(
      `Experiments so far (${view.nodes.length}${skipped > 0 ? `, the last ${recent.length} shown` : ''}):\n` +
        recent.map((n) => `- ${insightLine(n, view.nodes, view.plan)}`).join('\n'),
    );
  }
  const failures = buggyNodes(view.nodes)
    .filter((n) => n !== exclude)
    .slice(-RECENT_FAILURES);
  if (failures.length > 0) {
    parts.push(
      `Recent failures:\n${failures.map((n) => `- ${n.id}: ${clip(n.error ?? '', 300)}\n  stderr tail: ${clip(tail(n.stderrTail, 400), 400)}`).join('\n')}`,
    );
  }
  if (view.hints.length > 0)
    parts.push(`Guidance from the person who started this run:\n${view.hints.map((h) => `- ${h}`).join('\n')}`);
  parts.push(`Experiments left in the budget: ${view.iterationsLeft}.`);
  return parts.join('\n\n');
}

export function draftPrompt(view: JournalView): string {
  return `${planBlock(view)}

${journalBlock(view)}

Write a complete experiment program for this plan. It must write results.json with "${view.plan.metric.name}".`;
}

export function debugPrompt(view: JournalView, failed: ExperimentNode): string {
  return `${planBlock(view)}

${journalBlock(view, failed)}

Experiment ${failed.id} failed: ${failed.error}

Its code:
\`\`\`python
${clip(failed.code, CODE_LIMIT)}
\`\`\`

End of its stderr:
\`\`\`
${tail(failed.stderrTail, TAIL_LIMIT)}
\`\`\`

End of its stdout:
\`\`\`
${tail(failed.stdoutTail, TAIL_LIMIT / 2)}
\`\`\`

Find the cause and submit the fixed program (keep what was right; change what broke).`;
}

export function improvePrompt(view: JournalView, best: ExperimentNode): string {
  const metrics = Object.entries(best.metrics)
    .slice(0, 24)
    .map(([k, v]) => `${k}=${formatNumber(v)}`)
    .join(', ');
  return `${planBlock(view)}

${journalBlock(view)}

The best experiment so far is ${best.id} with ${view.plan.metric.name} = ${formatNumber(best.primary!)}.
All its metrics: ${metrics}
Its code:
\`\`\`python
${clip(best.code, CODE_LIMIT)}
\`\`\`

Submit an improved program: one focused, well-motivated change that should improve "${view.plan.metric.name}" or make
the evidence for the hypothesis stronger (keep comparisons fair). If the evidence already answers the question,
call finish_experiments instead.`;
}

export interface PaperContext {
  goal: string;
  plan: ResearchPlan;
  nodes: ExperimentNode[];
  macros: { name: string; meaning: string; value: string }[];
  tablePreview: string;
  hasFigure: boolean;
  hints: string[];
}

export function paperPrompt(ctx: PaperContext): string {
  const best = bestNode(ctx.nodes, ctx.plan.metric.direction);
  return `Research goal:\n${ctx.goal}

Plan: ${ctx.plan.title}
Hypothesis: ${ctx.plan.hypothesis}
Primary metric: "${ctx.plan.metric.name}" (${ctx.plan.metric.direction}) — ${ctx.plan.metric.description}

What was tried, in order:
${ctx.nodes
  .slice(-12)
  .map((n) => `- ${insightLine(n, ctx.nodes, ctx.plan)}`)
  .join('\n')}

Best experiment: ${best?.id ?? 'none'}. Its method, as planned: ${clip(best?.plan ?? '', 1500)}

The results table that will appear as Table~\\ref{tab:results}:
${ctx.tablePreview}
${ctx.hasFigure ? '\nA figure produced by the best experiment will appear as Figure~\\ref{fig:main}.\n' : '\nThere is no figure.\n'}
Macros you can use (they expand to these recorded values; use them instead of typing numbers):
${ctx.macros.map((m) => `- ${m.name} = ${m.value}  (${m.meaning})`).join('\n')}
${ctx.hints.length > 0 ? `\nGuidance from the person who started this run:\n${ctx.hints.map((h) => `- ${h}`).join('\n')}\n` : ''}
Write the paper.`;
}

export function fixLatexPrompt(sections: PaperSections, errorTail: string): string {
  return `The paper did not compile. The LaTeX errors:
\`\`\`
${clip(errorTail, 3000)}
\`\`\`

The sections as they are now (JSON):
${JSON.stringify(sections, null, 1)}

Return ALL sections, corrected. Remember: fragments only, macros instead of numbers, no tables or figures.`;
}

function tail(text: string, max: number): string {
  return text.length > max ? `…${text.slice(text.length - max + 1)}` : text;
}
