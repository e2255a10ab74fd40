import type { ResearchPlan } from './journal.js';
import { LlmUnavailableError, type PromptImage, type ToolReply } from './ports.js';
import type { RunContext } from './run-context.js';
import type { FigureCritique, FigureRecord } from './run-state.js';
import { clip } from './text.js';
import { MAX_CRITIQUED_FIGURES, TOOLS } from './tools.js';

/**
 * The vision role's look at the figures (AI-Scientist-v2 does the same with a vision model): the figures the figure
 * step drew go to the run's vision model as images, in one call, and it answers per figure `ok` or `revise` with the
 * problems it sees. The figure step then runs once more with those problems in its prompt (figures.ts). The images
 * are PNG files a sandboxed program wrote: the host only reads their bytes (and checks the PNG signature), it never
 * decodes them, so a figure over the size limit is skipped with a note rather than downscaled.
 */

/** Bytes of one figure shown to the vision model (a 1400×550 plot at 130 dpi is about 100 kB). */
export const MAX_CRITIQUED_FIGURE_BYTES = 1_000_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PREVIOUS_CODE_LIMIT = 12_000;

export const CRITIQUE_SYSTEM = `You review the figures of a research paper. Each figure is given to you as an image,
with its file name and caption. For each one, check: the axes are labelled (with units where they have any) and their
tick labels are readable and do not overlap; every series that needs one has a legend entry; the scales suit the
values (a log scale where they span orders of magnitude); nothing is cut off; and the figure shows what its caption
claims. Answer "ok" when a reader would understand the figure as it is, and "revise" with concrete, fixable problems
otherwise. The figures can only be redrawn from the recorded results: do not ask for new data or experiments. Always
answer by calling the tool you are given.`;

function critiquePrompt(plan: ResearchPlan, shown: FigureRecord[]): string {
  const listed = shown.map((f, i) => `${i + 1}. ${fileOf(f)}: ${f.caption}`).join('\n');
  return `The paper studies: ${plan.title}
Primary metric: "${plan.metric.name}" (${plan.metric.direction}).

The figures, in the order of the images that follow (file name: caption):
${listed}

Judge every figure.`;
}

/**
 * What the figure step's prompt gets for its one revision: the problems per figure and the program that drew them.
 * Added at the end of the plotting prompt (dynamic content last).
 */
export function revisionNotes(critique: FigureCritique, previousCode: string | null): string {
  const notes = critique.figures
    .filter((f) => f.verdict === 'revise')
    .map(
      (f) =>
        `- ${f.file}: ${f.problems.length > 0 ? f.problems.join('; ') : 'asked for a revision without naming a problem'}`,
    )
    .join('\n');
  const code = previousCode
    ? `\nThe program that drew them:\n\`\`\`python\n${clip(previousCode, PREVIOUS_CODE_LIMIT)}\n\`\`\`\n`
    : '';
  return `
A reviewer looked at the figures this program drew, as images, and asked for a revision:
${notes}
Figures not listed were fine: keep them as they are.
${code}Revise the program so that it fixes every problem above, and give a caption for each file.`;
}

/** The figure's file name (its path under `figures/`), as the prompt and the verdicts name it. */
const fileOf = (figure: FigureRecord): string => figure.path.split('/').at(-1)!;

/**
 * Shows the figures to the run's vision model, one call for all of them, and returns its verdicts. Nothing here
 * fails the run: an unusable reply, an unreachable model or a spent budget is a critique without verdicts (and
 * without a revision).
 */
export async function critiqueFigures(
  ctx: RunContext,
  figures: FigureRecord[],
  model: string,
): Promise<FigureCritique> {
  const skipped: FigureCritique['skipped'] = [];
  const shown: FigureRecord[] = [];
  const images: PromptImage[] = [];
  for (const figure of figures) {
    const file = fileOf(figure);
    if (shown.length >= MAX_CRITIQUED_FIGURES) {
      skipped.push({ file, reason: `only ${MAX_CRITIQUED_FIGURES} figures are shown in one critique` });
      continue;
    }
    const bytes = await ctx.sink.loadArtifact(figure.path);
    if (!bytes) {
      skipped.push({ file, reason: 'the file is missing' });
    } else if (bytes.length > MAX_CRITIQUED_FIGURE_BYTES) {
      skipped.push({ file, reason: `${bytes.length} bytes, over the limit of ${MAX_CRITIQUED_FIGURE_BYTES}` });
    } else if (!bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
      skipped.push({ file, reason: 'not a PNG file' });
    } else {
      shown.push(figure);
      images.push({ name: file, mediaType: 'image/png', data: bytes });
    }
  }
  const critique: FigureCritique = { model, figures: [], skipped, failed: null, revision: 'none' };
  if (shown.length === 0) return { ...critique, failed: 'no figure could be shown' };
  if (!ctx.canCallModel('writeup')) return { ...critique, failed: 'the budget was spent' };
  let reply: ToolReply<[typeof TOOLS.critique]>;
  try {
    reply = await ctx.ask(
      'figure_critique',
      CRITIQUE_SYSTEM,
      critiquePrompt(ctx.state.plan!, shown),
      [TOOLS.critique],
      images,
    );
  } catch (err) {
    // The critique is an extra: a vision endpoint that is down, or refuses images, must not fail a run whose
    // experiments are done (the warning says why). Any other failure (an interrupt) goes on up.
    if (!(err instanceof LlmUnavailableError)) throw err;
    return { ...critique, failed: err.message };
  }
  if (!reply.ok) return { ...critique, failed: reply.error };
  const answers = reply.value.figures;
  // One verdict per figure shown, in order; a figure the model left out is taken as fine, names it invented are dropped.
  critique.figures = shown.map((figure) => {
    const file = fileOf(figure);
    const answer = answers.find((a) => a.file === file || a.file === figure.path);
    return answer?.verdict === 'revise'
      ? { file, verdict: 'revise', problems: answer.problems }
      : { file, verdict: 'ok', problems: [] };
  });
  critique.revision = critique.figures.some((f) => f.verdict === 'revise') ? 'pending' : 'none';
  return critique;
}
