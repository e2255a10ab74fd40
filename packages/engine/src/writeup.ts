import { fileNameAsWords } from '@autolab/contracts';
import { toBibtex } from './bibtex.js';
import { heldOutPaper } from './held-out.js';
import { referencePapers } from './ideation.js';
import { bestNode, type ExperimentNode, goodNodes } from './journal.js';
import { describeDropped, printableLatex } from './latex-charset.js';
import { OUTPUT_LIMITS } from './node-runner.js';
import {
  type Claim,
  fallbackSections,
  latexErrors,
  type PaperFigure,
  pageCount,
  paperTables,
  renderPaper,
  resultsTex,
  type Tables,
  unknownCitations,
} from './paper-latex.js';
import { papersBlock, titleKey } from './papers.js';
import type { PaperSections } from './persisted-shapes.js';
import { type ExecResult, type Sandbox, type SandboxFile, SandboxStepError } from './ports.js';
import { fixLatexPrompt, type PaperContext, paperPrompt, WRITER_SYSTEM } from './prompts.js';
import { type RunContext, RunFailure } from './run-context.js';
import { startingCodeGain } from './starting-code-gain.js';
import { clipAtWord } from './text.js';
import { TOOLS } from './tools.js';

/** Fixes the model gets when the paper does not compile (or breaks a check), before the engine's own text. */
export const MAX_LATEX_FIXES = 3;
const LATEX_TIMEOUT_MS = 180_000;
const MAX_PAPER_FIGURES = 3;

/** Everything the paper is built from that does not depend on the model's prose. */
export interface PaperMaterial {
  resultsTex: string;
  macros: { name: string; meaning: string; value: string }[];
  tables: Tables;
  figures: PaperFigure[];
  /** Files the LaTeX sandbox needs besides paper.tex. */
  files: { path: string; content: Buffer }[];
  claims: Claim[];
  citationKeys: Set<string>;
  references: PaperContext['references'];
  /** Characters of results.tex its fonts cannot print (dropped; the paper's warning names them). */
  dropped: string[];
}

export async function paperMaterial(ctx: RunContext): Promise<PaperMaterial> {
  const { state } = ctx;
  const plan = state.plan!;
  const gain = startingCodeGain(plan, state.nodes, state.startingCodeNodeId, ctx.input.template?.name ?? null);
  const results = resultsTex(plan, state.nodes, state.seeds, gain);
  const tables = paperTables(plan, state.nodes, state.seeds, gain);
  // The held-out test sits next to the results it checks: its table after the results table, its macros in results.tex.
  const heldOut = heldOutPaper(state.heldOut, plan.metric.name);
  if (heldOut.table) {
    results.tex += `\n${heldOut.tex}\n`;
    results.macros.push(...heldOut.macros);
    tables.results += `\n\n${heldOut.table}`;
    tables.preview += `\n${heldOut.preview}`;
  }
  // results.tex holds text too (the metric's name, the held-out table's reasons): the same characters as the paper.
  const printable = printableLatex(results.tex);
  const files: { path: string; content: Buffer }[] = [{ path: 'results.tex', content: Buffer.from(printable.text) }];
  const claims = [...results.claims, ...tables.claims, ...heldOut.claims];

  // Figures: the plots written for the paper first, then what the best experiments saved themselves.
  const best = bestNode(state.nodes, plan.metric.direction)!;
  const candidates = [
    ...state.figures.files,
    ...[best, ...[...goodNodes(state.nodes)].reverse()].flatMap((n) =>
      n.figures.map((path) => ({
        path,
        caption: experimentFigureCaption(path, n),
        nodeId: n.id,
      })),
    ),
  ];
  const figures: PaperFigure[] = [];
  const used = new Set<string>();
  for (const candidate of candidates) {
    if (figures.length >= MAX_PAPER_FIGURES || used.has(candidate.path)) continue;
    const bytes = await ctx.sink.loadArtifact(candidate.path);
    if (!bytes) continue;
    used.add(candidate.path);
    const n = figures.length + 1;
    const file = `figure${n}${candidate.path.slice(candidate.path.lastIndexOf('.')).toLowerCase()}`;
    files.push({ path: file, content: bytes });
    figures.push({ file, label: `fig:${n}`, caption: candidate.caption });
    claims.push({
      id: `fig:${n}`,
      kind: 'figure',
      value: null,
      shown: file,
      nodeId: candidate.nodeId,
      artifact: candidate.path,
      key: null,
      where: `fig:${n}`,
    });
  }

  // The user's papers first, under their own keys; a paper the literature search also found is listed once.
  const user = ctx.state.papers?.references ?? [];
  const userTitles = new Set(user.map((r) => titleKey(r.title)));
  const papers = referencePapers(ctx).filter((p) => !userTitles.has(titleKey(p.title)));
  const bib = toBibtex(
    papers,
    user.map((r) => r.key),
  );
  const entries = [...user.map((r) => r.entry), ...bib.map((b) => b.entry)];
  if (entries.length > 0) files.push({ path: 'references.bib', content: Buffer.from(entries.join('\n\n')) });
  return {
    resultsTex: results.tex,
    macros: results.macros,
    tables,
    figures,
    files,
    claims,
    citationKeys: new Set([...user.map((r) => r.key), ...bib.map((b) => b.key)]),
    dropped: printable.dropped,
    references: [
      ...user.map((r) => ({ key: r.key, title: r.title, year: r.year, authors: r.authors, provided: true })),
      ...bib.map((b, i) => ({
        key: b.key,
        title: papers[i]!.title,
        year: papers[i]!.year,
        authors: papers[i]!.authors,
        provided: false,
      })),
    ],
  };
}

/**
 * Writeup: the model writes the prose around generated tables, figures and macros; the paper is compiled with
 * latexmk in the LaTeX sandbox; compile errors, unknown citations and a page count over the limit go back to the
 * model a bounded number of times; if it cannot fix them, the engine writes the text from the data itself. A
 * writeup failure never touches the experiment results.
 */
export async function writeupStage(ctx: RunContext): Promise<void> {
  await ctx.enterStage('writeup', 'Writeup: writing the paper around the recorded results and compiling it.');
  const { state } = ctx;
  const plan = state.plan!;
  const material = await paperMaterial(ctx);
  const best = bestNode(state.nodes, plan.metric.direction)!;
  await ctx.sink.saveArtifact('best/experiment.py', best.code);
  const bestResults = await ctx.sink.loadArtifact(`nodes/${best.id}/results.json`);
  if (bestResults) await ctx.sink.saveArtifact('best/results.json', bestResults);
  await ctx.sink.saveArtifact(
    'journal.json',
    JSON.stringify(
      {
        plan,
        nodes: state.nodes,
        // Nodes that were created but never finished (their worker died and they could not be run again).
        lost: state.lostNodes,
        insights: state.insights,
        seeds: state.seeds,
        heldOut: state.heldOut,
        stopReason: state.search.stopReason,
      },
      null,
      2,
    ),
  );

  let sections: PaperSections | null = null;
  if (ctx.canCallModel('writeup')) {
    const hints = await ctx.hints('writeup');
    const reply = await ctx.ask(
      'paper',
      WRITER_SYSTEM,
      paperPrompt({
        goal: ctx.goalForPrompts + papersBlock(state.papers, 'writeup'),
        plan,
        nodes: state.nodes,
        insights: state.insights,
        macros: material.macros,
        tablePreview: material.tables.preview,
        figures: material.figures.map((f) => ({ label: f.label, caption: f.caption })),
        references: material.references,
        pageLimit: ctx.input.policy.pageLimit,
        hints,
        templateNotes: ctx.input.template?.paperNotes ?? null,
      }),
      [TOOLS.paper],
    );
    if (reply.ok) sections = reply.value;
  }
  const result = await compilePaper(ctx, material, sections, 'paper');
  state.paperSections = result.sections;
  state.paperDone = true;
  await ctx.checkpoint();
}

export interface CompiledPaper {
  sections: PaperSections;
  fallback: boolean;
  pages: number | null;
}

/**
 * Compiles `sections` (or the data-only fallback when null) with the fix loop, saves paper/* and claims.json, and
 * emits paper.ready. `name` is the file stem: `paper`, or `paper-revised` for a revision.
 */
export async function compilePaper(
  ctx: RunContext,
  paperMaterial: PaperMaterial,
  modelSections: PaperSections | null,
  name: string,
): Promise<CompiledPaper> {
  const { state } = ctx;
  const plan = state.plan!;
  let material = paperMaterial;
  const fallbackText = () =>
    fallbackSections(ctx.input.goal, plan, state.nodes, state.insights, {
      seeds: state.seeds,
      gain: startingCodeGain(plan, state.nodes, state.startingCodeNodeId, ctx.input.template?.name ?? null),
      userKeys: material.citationKeys.size > 0 ? (state.papers?.references ?? []).map((r) => r.key) : [],
    });
  let fallback = modelSections === null;
  let sections = modelSections ?? fallbackText();
  const latex = await ctx.ports.sandboxes.open('latex', ctx.signal);
  try {
    let attempt = 0;
    const compile = async (s: PaperSections) => {
      attempt++;
      const { tex, dropped } = renderPaper({
        runId: ctx.input.runId,
        date: new Date(ctx.ports.clock.now()).toISOString().slice(0, 10),
        sections: s,
        tables: material.tables,
        figures: material.figures,
        hasBibliography: material.citationKeys.size > 0,
        reproducibility: reproducibilityNote(ctx),
      });
      await ctx.emit({
        type: 'paper.compiling',
        message: `Compiling the paper (attempt ${attempt}).`,
        data: { attempt },
      });
      const unknown = unknownCitations(s, material.citationKeys);
      if (unknown.length > 0) {
        const problem = `Unknown citation keys: ${unknown.join(', ')}. Cite only these keys: ${[...material.citationKeys].join(', ') || '(none: cite nothing)'}.`;
        await paperProblem(ctx, attempt, problem);
        return { tex, dropped, pdf: null, log: '', problem, pages: null };
      }
      const { pdf, log } = await runLatex(ctx, latex, tex, material.files);
      const pages = pdf ? pageCount(log) : null;
      if (!pdf) {
        const problem = latexErrors(log);
        await paperProblem(ctx, attempt, problem);
        return { tex, dropped, pdf, log, problem, pages };
      }
      if (pages !== null && pages > ctx.input.policy.pageLimit) {
        const problem = `The paper has ${pages} pages; the limit is ${ctx.input.policy.pageLimit}. Shorten the prose.`;
        await paperProblem(ctx, attempt, problem);
        return { tex, dropped, pdf, log, problem, pages };
      }
      return { tex, dropped, pdf, log, problem: null, pages };
    };

    let result = await compile(sections);
    // A PDF over the page limit is kept as the best so far while the model tries to shorten it.
    let acceptable = result.pdf ? result : null;
    for (let fix = 1; result.problem && fix <= MAX_LATEX_FIXES && !fallback && ctx.canCallModel('writeup'); fix++) {
      const reply = await ctx.ask('latex_fix', WRITER_SYSTEM, fixLatexPrompt(sections, result.problem), [
        TOOLS.fixLatex,
      ]);
      if (!reply.ok) continue;
      sections = reply.value;
      result = await compile(sections);
      if (result.pdf && (!acceptable || !result.problem)) acceptable = result;
    }
    if (result.problem && acceptable?.pdf) {
      result = acceptable;
      await ctx.emit({
        type: 'warning',
        message: `The paper is over the page limit (${acceptable.pages} pages) and the model could not shorten it; keeping it.`,
        data: { code: 'page_limit_exceeded', detail: `${acceptable.pages} > ${ctx.input.policy.pageLimit}` },
      });
    } else if (result.problem && !fallback) {
      await ctx.emit({
        type: 'warning',
        message: 'The model could not make its LaTeX compile; writing the paper from the recorded data alone.',
        data: { code: 'paper_fallback', detail: result.problem.slice(0, 500) },
      });
      fallback = true;
      sections = fallbackText();
      result = await compile(sections);
    }
    if (!result.pdf && material.citationKeys.size > 0) {
      // The generated text is plain: what still breaks is most likely a bibliography entry (the user's own .bib goes
      // in sanitised, but a paper without references beats no paper).
      await ctx.emit({
        type: 'warning',
        message: 'The paper did not compile even from the generated text; compiling it without the bibliography.',
        data: { code: 'paper_without_bibliography', detail: (result.problem ?? '').slice(0, 500) },
      });
      material = {
        ...material,
        files: material.files.filter((f) => f.path !== 'references.bib'),
        citationKeys: new Set(),
        references: [],
      };
      fallback = true;
      sections = fallbackText();
      result = await compile(sections);
    }
    for (const f of material.files) await ctx.sink.saveArtifact(`paper/${f.path}`, f.content);
    await ctx.sink.saveArtifact(`paper/${name}.tex`, result.tex);
    if (result.log) await ctx.sink.saveArtifact(`paper/${name}.log`, result.log);
    await ctx.sink.saveArtifact('paper/claims.json', JSON.stringify({ claims: material.claims }, null, 2));
    await ctx.sink.saveArtifact(`paper/${name}.sections.json`, JSON.stringify(sections, null, 2));
    if (!result.pdf) {
      throw new RunFailure(
        'paper_compile_failed',
        `the paper did not compile, even from the generated fallback text; see paper/${name}.log`,
      );
    }
    await ctx.sink.saveArtifact(`paper/${name}.pdf`, result.pdf);
    const dropped = [...new Set([...material.dropped, ...result.dropped])];
    if (dropped.length > 0) {
      await ctx.emit({
        type: 'warning',
        message: `The paper's fonts cannot print ${dropped.length} character${dropped.length === 1 ? '' : 's'} of its text (emoji, CJK…); they were left out.`,
        data: { code: 'paper_characters_dropped', detail: describeDropped(dropped) },
      });
    }
    await ctx.emit({
      type: 'paper.ready',
      message: `Paper ready: paper/${name}.pdf (${result.pages ?? '?'} pages, ${Math.round(result.pdf.length / 1024)} KB${fallback ? ', fallback text' : ''}).`,
      data: { pdf: `paper/${name}.pdf`, tex: `paper/${name}.tex`, attempt, fallback },
    });
    return { sections, fallback, pages: result.pages };
  } finally {
    await latex.close();
  }
}

async function paperProblem(ctx: RunContext, attempt: number, problem: string): Promise<void> {
  await ctx.emit({
    type: 'paper.compile_failed',
    message: `The paper needs a fix (attempt ${attempt}): ${problem.replace(/\s+/g, ' ').slice(0, 160)}`,
    data: { attempt, errorTail: problem.slice(0, 1500) },
  });
}

async function runLatex(
  ctx: RunContext,
  sandbox: Sandbox,
  tex: string,
  files: { path: string; content: Buffer }[],
): Promise<{ pdf: Buffer | null; log: string }> {
  let exec: ExecResult;
  let out: SandboxFile[];
  try {
    await sandbox.reset();
    await sandbox.writeFiles([{ path: 'paper.tex', content: Buffer.from(tex) }, ...files]);
    exec = await ctx.heartbeat.during('compiling the LaTeX', () =>
      sandbox.exec(['latexmk', '-pdf', '-interaction=nonstopmode', '-halt-on-error', '-file-line-error', 'paper.tex'], {
        timeoutMs: LATEX_TIMEOUT_MS,
        signal: ctx.signal,
      }),
    );
    ctx.throwIfInterrupted();
    out = (await sandbox.readFiles(ctx.input.outputLimits ?? OUTPUT_LIMITS)).files;
  } catch (err) {
    // A compile that breaks its sandbox is a failed compile (the next attempt gets a fresh container).
    if (!(err instanceof SandboxStepError)) throw err;
    return { pdf: null, log: err.message };
  }
  const log = out.find((f) => f.path === 'paper.log')?.content.toString('utf8') ?? exec.stdout.text + exec.stderr.text;
  const pdf = out.find((f) => f.path === 'paper.pdf')?.content ?? null;
  return { pdf: exec.exitCode === 0 && pdf ? pdf : null, log };
}

function reproducibilityNote(ctx: RunContext): string {
  const { state } = ctx;
  const best = bestNode(state.nodes, state.plan!.metric.direction)!;
  const image = state.sandboxImage;
  return [
    'Every number in this paper was measured by experiment code that ran in a network-less, resource-limited',
    `sandbox container${image ? ` (image \\texttt{${image.slice(0, 19)}})` : ''}; the values are read from the`,
    '\\texttt{results.json} files it wrote, through the macros in \\texttt{results.tex}, and',
    '\\texttt{paper/claims.json} maps each of them to its experiment and file. The best program',
    `(${best.id}) is \\texttt{best/experiment.py} in the run archive, with \\texttt{best/reproduce.sh} to run it again;`,
    `every experiment's code and output is under \\texttt{nodes/}. Run: \\texttt{${ctx.input.runId.replace(/_/g, '\\_')}}.`,
    appliedLessonsNote(state.lessons.applied),
  ]
    .filter(Boolean)
    .join('\n');
}

/** Which of the lab's earlier lessons went into this run's prompts (their text is in manifest.json). */
function appliedLessonsNote(applied: RunContext['state']['lessons']['applied']): string {
  if (applied.length === 0) return '';
  // \\path (url package) sets an id in monospace without escaping and lets the line break around it.
  const list = applied.map((l) => `\\path{${l.id}} (${l.kind}; ${l.steps.join(', ')})`);
  return `Lessons from this lab's earlier runs went into the prompts (\\texttt{manifest.json} lists their text; their evidence is in the lab's lesson library): ${list.join('; ')}.`;
}

/**
 * The caption of a figure an experiment saved by itself (the plotting step's figures have the model's captions): what
 * the file's name says it shows, which experiment drew it and what that experiment did — never just the file name.
 */
export function experimentFigureCaption(path: string, node: ExperimentNode): string {
  const name = fileNameAsWords(path);
  const shows = name ? `${name.charAt(0).toUpperCase()}${name.slice(1)}, drawn` : 'Drawn';
  return `${shows} by experiment ${node.id}: ${clipAtWord(node.plan, 140)}`;
}
