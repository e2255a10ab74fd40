import { critiqueFigures, revisionNotes } from './figure-critique.js';
import { bestNode } from './journal.js';
import { OUTPUT_LIMITS } from './node-runner.js';
import { type ExecResult, type SandboxFile, SandboxStepError } from './ports.js';
import { PLOT_SYSTEM, plotPrompt } from './prompts.js';
import type { RunContext } from './run-context.js';
import type { FigureRecord } from './run-state.js';
import { TOOLS } from './tools.js';

/**
 * Matplotlib reads `matplotlibrc` from the working directory: type sizes that stay legible once a figure is scaled
 * to the paper's column (the defaults, 10 pt on a 6.4 in figure, print at about 7 pt), unless the program sets its own.
 */
export const PAPER_MATPLOTLIBRC = [
  'font.size: 13',
  'axes.titlesize: 14',
  'axes.labelsize: 14',
  'xtick.labelsize: 12',
  'ytick.labelsize: 12',
  'legend.fontsize: 12',
  'savefig.dpi: 200',
  'savefig.bbox: tight',
  '',
].join('\n');

/** Attempts at a plotting program that runs and draws something, before the figures are skipped. */
export const MAX_FIGURE_ATTEMPTS = 3;
const PLOT_TIMEOUT_MS = 120_000;

/**
 * Figures: the model writes plotting code over the recorded results (as JSON files in the sandbox); it runs in the
 * sandbox like any experiment; the PNGs it writes become artifacts and the paper's figures. A program that fails
 * gets its error back, a bounded number of times; then the paper goes on with the experiments' own figures.
 * With a vision model, the figures are then critiqued as images and, when one needs it, drawn once more with the
 * problems in the prompt (figure-critique.ts); each step is checkpointed, so a resumed run repeats neither.
 */
export async function figureStage(ctx: RunContext): Promise<void> {
  await ctx.enterStage('figures', 'Figures: plotting the recorded results.');
  const figures = ctx.state.figures;
  // Figures already drawn belong to a resumed run whose critique or revision was under way.
  if (figures.files.length === 0) {
    figures.files = await drawFigures(ctx, null);
    if (figures.files.length === 0) {
      await ctx.emit({
        type: 'warning',
        message: "No figure could be drawn from the results; the paper uses the experiments' own figures, if any.",
        data: { code: 'figures_skipped', detail: `${MAX_FIGURE_ATTEMPTS} attempts` },
      });
    }
    await ctx.checkpoint();
  }
  const vision = ctx.input.models.vision;
  if (vision && figures.files.length > 0) await critiqueAndRevise(ctx, vision);
  figures.done = true;
  await ctx.checkpoint();
}

/** One critique by the vision model and, when it finds problems, one revision of the figures. */
async function critiqueAndRevise(ctx: RunContext, model: string): Promise<void> {
  const figures = ctx.state.figures;
  if (!figures.critique) {
    figures.critique = await critiqueFigures(ctx, figures.files, model);
    await ctx.sink.saveArtifact('figures/critique.json', JSON.stringify(figures.critique, null, 2));
    await ctx.checkpoint();
  }
  const critique = figures.critique;
  if (critique.failed !== null) {
    await ctx.emit({
      type: 'warning',
      message: `The vision model ${model} did not critique the figures (${critique.failed}); they stay as drawn.`,
      data: { code: 'figure_critique_failed', detail: critique.failed },
    });
    return;
  }
  if (critique.revision === 'pending') {
    const previous = await ctx.sink.loadArtifact('figures/plot.py');
    const revised = await drawFigures(ctx, revisionNotes(critique, previous?.toString('utf8') ?? null));
    // A revision that draws nothing leaves the figures the critique saw.
    if (revised.length > 0) figures.files = revised;
    critique.revision = revised.length > 0 ? 'done' : 'failed';
    await ctx.sink.saveArtifact('figures/critique.json', JSON.stringify(critique, null, 2));
    await ctx.checkpoint();
  }
  const toRevise = critique.figures.filter((f) => f.verdict === 'revise');
  const problems = toRevise.map((f) => `${f.file}: ${f.problems[0] ?? 'revise'}`).join('; ');
  const outcome = { none: 'no revision needed', done: 'revised once', failed: 'the revision drew nothing' }[
    critique.revision
  ];
  await ctx.emit({
    type: 'figures.critiqued',
    message: `Figures critiqued by ${model}: ${toRevise.length} of ${critique.figures.length} to revise${problems ? ` (${problems.slice(0, 200)})` : ''}; ${outcome}.`,
    data: {
      model,
      figures: critique.figures,
      skipped: critique.skipped,
      revision: critique.revision,
    },
  });
}

/**
 * Asks for a plotting program and runs it, fixing failures a bounded number of times; returns the figures it drew
 * (saved as artifacts), or none. `revision`: the critique's notes for the one revision, added to the prompt.
 */
async function drawFigures(ctx: RunContext, revision: string | null): Promise<FigureRecord[]> {
  const { state } = ctx;
  const plan = state.plan!;
  const best = bestNode(state.nodes, plan.metric.direction);
  const data = {
    'results_all.json': state.nodes.map((n) => ({
      id: n.id,
      parent: n.parentId,
      stage: n.stage,
      operator: n.operator,
      plan: n.plan.slice(0, 300),
      buggy: n.buggy,
      metrics: n.metrics,
    })),
    'best_results.json': best ? { id: best.id, metrics: best.metrics } : null,
    'seeds.json': state.seeds,
    'metric.json': plan.metric,
  };
  const describe = [
    '- results_all.json: every experiment: [{id, parent, stage, operator, plan, buggy, metrics: {name: value}}]',
    '- best_results.json: {id, metrics} of the best experiment',
    `- seeds.json: ${state.seeds ? '{nodeId, seeds, values, mean, std} of the best program over several seeds' : 'null (no seed runs)'}`,
    '- metric.json: {name, direction, description} of the primary metric',
  ].join('\n');
  const startingPoint = ctx.input.template?.plotCode ?? null;
  const files: FigureRecord[] = [];
  // One of the run's experiment sandboxes (the same image): no container of its own to start.
  const sandbox = await ctx.experimentSandboxes.acquire();
  try {
    let error: string | null = null;
    for (let attempt = 1; attempt <= MAX_FIGURE_ATTEMPTS && files.length === 0; attempt++) {
      if (!ctx.canCallModel('writeup')) break;
      // A revision starts from the program that drew the critiqued figures, not from the template's.
      // Typed here: `ask` infers its reply from its arguments, and `error` (in this prompt) is set from that reply.
      const prompt: string =
        plotPrompt(plan, describe, error, revision === null ? startingPoint : null) + (revision ?? '');
      const reply = await ctx.ask('figures', PLOT_SYSTEM, prompt, [TOOLS.plot]);
      if (!reply.ok) continue;
      const submission = reply.value;
      let exec: ExecResult | null = null;
      let out: SandboxFile[] = [];
      let sandboxError: string | null = null;
      try {
        const outcome = await ctx.heartbeat.during('running the plotting program', () =>
          sandbox.runProgram({
            files: [
              { path: 'plot.py', content: Buffer.from(submission.code) },
              { path: 'matplotlibrc', content: Buffer.from(PAPER_MATPLOTLIBRC) },
              ...Object.entries(data).map(([path, value]) => ({
                path,
                content: Buffer.from(JSON.stringify(value, null, 1)),
              })),
            ],
            command: ['python3', 'plot.py'],
            exec: { timeoutMs: PLOT_TIMEOUT_MS, signal: ctx.signal },
            outputs: ctx.input.outputLimits ?? OUTPUT_LIMITS,
          }),
        );
        ctx.throwIfInterrupted();
        exec = outcome.exec;
        out = outcome.files;
        sandboxError = outcome.outputError;
      } catch (err) {
        // What the plotting program did to its sandbox fails this attempt, not the run.
        if (!(err instanceof SandboxStepError)) throw err;
        sandboxError = err.message;
      }
      const pngs = out.filter((f) => /\.png$/i.test(f.path) && !f.path.includes('/') && f.content.length > 0);
      if (exec?.exitCode !== 0 || pngs.length === 0) {
        error =
          exec && exec.exitCode !== 0
            ? exec.stderr.text.slice(-2000) || exec.sandboxLost || `exit code ${exec.exitCode}`
            : (sandboxError ?? 'the program ran but wrote no PNG file');
        await ctx.emit({
          type: 'error',
          message: `The plotting program failed (attempt ${attempt}): ${error.split('\n').filter(Boolean).at(-1) ?? ''}`,
          data: { code: 'figure_failed', step: 'figures', detail: error },
        });
        continue;
      }
      await ctx.sink.saveArtifact('figures/plot.py', submission.code);
      for (const png of pngs.slice(0, 4)) {
        const path = `figures/${png.path}`;
        const caption = submission.captions.find((c) => c.file === png.path)?.caption ?? `Figure ${png.path}.`;
        await ctx.sink.saveArtifact(path, png.content);
        files.push({ path, caption, nodeId: null });
        await ctx.emit({
          type: 'figure.created',
          message: `${revision === null ? 'Figure' : 'Revised figure'}: ${path} — ${caption.slice(0, 120)}`,
          data: { nodeId: null, path, caption },
        });
      }
    }
  } finally {
    ctx.experimentSandboxes.release(sandbox);
  }
  return files;
}
