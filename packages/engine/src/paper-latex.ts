import { readFileSync } from 'node:fs';
import type { StartingCodeGain } from '@autolab/contracts';
import { bestNode, type ExperimentNode, formatNumber, goodNodes, type ResearchPlan } from './journal.js';
import { printableLatex } from './latex-charset.js';
import type { PaperSections } from './persisted-shapes.js';
import type { SeedResult } from './run-state.js';
import { signed, signedPercent, startingCodeName } from './starting-code-gain.js';
import { clip, clipAtWord } from './text.js';

/** The paper template shipped with the engine (a static asset, read once). */
export const PAPER_TEMPLATE = readFileSync(new URL('../templates/paper.tex', import.meta.url), 'utf8');

/** LaTeX's special characters as the commands that print them. */
export const LATEX_SPECIALS: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '{': '\\{',
  '}': '\\}',
  $: '\\$',
  '&': '\\&',
  '#': '\\#',
  '%': '\\%',
  _: '\\_',
  '^': '\\textasciicircum{}',
  '~': '\\textasciitilde{}',
};

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * Plain text → LaTeX that prints it as is: the specials escaped, control characters dropped (TeX rejects DEL and
 * most of the others). Characters beyond ASCII are left for `printableLatex`, which every file the LaTeX sandbox
 * compiles goes through, so that what the fonts cannot print is handled (and reported) in one place.
 */
export function escapeLatex(text: string): string {
  return text.replace(/[\\{}$&#%_^~]/g, (c) => LATEX_SPECIALS[c]!).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/** A recorded value as LaTeX; exponents become ×10^n, without trailing zeros (1e-5, not 1.000e-5). */
export function latexNumber(value: number): string {
  return latexOf(formatNumber(value));
}

function latexOf(text: string): string {
  const match = /^(-?[\d.]+)e([+-]\d+)$/.exec(text);
  if (!match) return `\\ensuremath{${text}}`;
  const mantissa = match[1]!.includes('.') ? match[1]!.replace(/\.?0+$/, '') : match[1]!;
  return `\\ensuremath{${mantissa}\\times 10^{${Number(match[2])}}}`;
}

/**
 * A mean and its standard deviation at matched precision, as a reader expects them: the deviation to two significant
 * digits and the mean to the same decimal place (0.396 ± 0.015, not 0.3959 ± 0.01509). Very small or very large
 * spreads keep each value's own form.
 */
export function meanAndStd(mean: number, std: number): { mean: string; std: string } {
  if (!(std > 0) || !Number.isFinite(std)) return { mean: latexNumber(mean), std: latexNumber(std) };
  const decimals = Math.max(0, 1 - Math.floor(Math.log10(std)));
  if (decimals > 6 || Math.abs(mean) >= 1e6) return { mean: latexNumber(mean), std: latexNumber(std) };
  return { mean: latexOf(mean.toFixed(decimals)), std: latexOf(std.toFixed(decimals)) };
}

/** A metric's key as a reader reads it in a table header: `final_loss_standardized` → `final loss standardized`. */
export function metricLabel(name: string): string {
  return escapeLatex(name.replace(/[_]+/g, ' ').replace(/\s+/g, ' ').trim() || name);
}

export interface MacroInfo {
  name: string;
  meaning: string;
  value: string;
}

/**
 * A claim the paper makes with a number or a figure, and where it came from. Written to claims.json so every value
 * in the paper can be traced to the node and the artifact that produced it.
 */
export interface Claim {
  id: string;
  kind: 'table_cell' | 'macro' | 'figure' | 'seed_summary' | 'starting_code_gain';
  value: number | null;
  shown: string;
  nodeId: string | null;
  artifact: string;
  key: string | null;
  where: string;
}

const MAX_TABLE_ROWS = 12;
const EXTRA_COLUMNS = 3;
const resultsOf = (nodeId: string) => `nodes/${nodeId}/results.json`;

/**
 * results.tex: every number the prose may cite, defined from the recorded metrics. `\result{name}` and
 * `\noderesult{node}{name}` fail the compilation for names that were never measured, so a typo cannot print a
 * made-up value.
 */
export function resultsTex(
  plan: ResearchPlan,
  nodes: ExperimentNode[],
  seeds: SeedResult | null,
  gain: StartingCodeGain | null = null,
): { tex: string; macros: MacroInfo[]; claims: Claim[] } {
  const best = bestNode(nodes, plan.metric.direction);
  const good = goodNodes(nodes);
  const first = good[0];
  const claims: Claim[] = [];
  const macro = (
    name: string,
    meaning: string,
    value: string,
    source?: { nodeId: string; key: string; raw: number },
  ) => {
    if (source) {
      claims.push({
        id: `macro:${name}`,
        kind: 'macro',
        value: source.raw,
        shown: value,
        nodeId: source.nodeId,
        artifact: resultsOf(source.nodeId),
        key: source.key,
        where: 'results.tex',
      });
    }
    return { name, meaning, value };
  };
  const metric = plan.metric.name;
  const spread = seeds ? meanAndStd(seeds.mean, seeds.std) : null;
  const macros: MacroInfo[] = [
    macro('\\metricname', 'name of the primary metric', escapeLatex(metric)),
    best
      ? macro('\\bestvalue', `best ${metric}`, latexNumber(best.primary!), {
          nodeId: best.id,
          key: metric,
          raw: best.primary!,
        })
      : macro('\\bestvalue', `best ${metric}`, 'n/a'),
    macro('\\bestiteration', 'id of the best experiment', best?.id ?? 'n/a'),
    first
      ? macro('\\firstvalue', `${metric} of the first working experiment (${first.id})`, latexNumber(first.primary!), {
          nodeId: first.id,
          key: metric,
          raw: first.primary!,
        })
      : macro('\\firstvalue', `${metric} of the first working experiment`, 'n/a'),
    macro('\\numexperiments', 'experiments run', String(nodes.length)),
    macro('\\numfailed', 'experiments that failed', String(nodes.length - good.length)),
    macro('\\seedmean', `mean ${metric} of the best program over its seeds`, spread?.mean ?? 'n/a'),
    seeds?.ignored
      ? macro(
          '\\seedstd',
          `0: every seed gave the same ${metric}, so the seeds had no effect (the program is deterministic or ignores SEED); say that, never write $\\pm$ \\seedstd`,
          latexNumber(seeds.std),
        )
      : macro('\\seedstd', `standard deviation of ${metric} over the seeds`, spread?.std ?? 'n/a'),
    macro('\\numseeds', 'seeds the best program was run with', seeds ? String(seeds.values.length) : '1'),
  ];
  if (gain) {
    const start = { nodeId: gain.startNodeId, key: metric };
    macros.push(
      macro(
        '\\startvalue',
        `${metric} of ${startingCodeName(gain)}, run as it is (${gain.startNodeId})`,
        latexNumber(gain.startValue),
        {
          ...start,
          raw: gain.startValue,
        },
      ),
      macro(
        '\\gainabs',
        `change in ${metric} from the starting code to the best experiment (best − start)`,
        signedLatex(gain.absolute),
      ),
      macro(
        '\\gainrel',
        `that change relative to the starting code's ${metric}`,
        gain.relative === null ? 'n/a' : escapeLatex(signedPercent(gain.relative)!),
      ),
    );
    claims.push({
      id: 'macro:\\gainabs',
      kind: 'starting_code_gain',
      value: gain.absolute,
      shown: signedLatex(gain.absolute),
      nodeId: gain.bestNodeId,
      artifact: resultsOf(gain.startNodeId),
      key: metric,
      where: 'results.tex',
    });
  }
  if (seeds) {
    claims.push({
      id: 'macro:\\seedmean',
      kind: 'seed_summary',
      value: seeds.mean,
      shown: spread?.mean ?? latexNumber(seeds.mean),
      nodeId: seeds.nodeId,
      artifact: 'seeds/summary.json',
      key: 'mean',
      where: 'results.tex',
    });
  }
  const lines = [
    '% Generated by Autolab from the recorded results; every number in the paper comes from here.',
    '\\makeatletter',
    '\\newcommand{\\autolab@missing}[1]{\\PackageError{autolab}{No recorded result named "#1"}{Use one of the metric names listed in the prompt.}}',
    '\\newcommand{\\result}[1]{\\@ifundefined{autolab@best@#1}{\\autolab@missing{#1}}{\\@nameuse{autolab@best@#1}}}',
    '\\newcommand{\\noderesult}[2]{\\@ifundefined{autolab@node@#1@#2}{\\autolab@missing{#1/#2}}{\\@nameuse{autolab@node@#1@#2}}}',
  ];
  for (const m of macros) lines.push(`\\newcommand{${m.name}}{${m.value}}`);
  for (const node of good) {
    for (const [name, value] of Object.entries(node.metrics)) {
      lines.push(`\\@namedef{autolab@node@${node.id}@${name}}{${latexNumber(value)}}`);
      if (node === best) lines.push(`\\@namedef{autolab@best@${name}}{${latexNumber(value)}}`);
    }
  }
  lines.push('\\makeatother', '');
  if (best) {
    for (const [name, value] of Object.entries(best.metrics)) {
      macros.push({ name: `\\result{${name}}`, meaning: `${name} in the best experiment`, value: formatNumber(value) });
      claims.push({
        id: `macro:\\result{${name}}`,
        kind: 'macro',
        value,
        shown: latexNumber(value),
        nodeId: best.id,
        artifact: resultsOf(best.id),
        key: name,
        where: 'results.tex',
      });
    }
  }
  return { tex: lines.join('\n'), macros, claims };
}

function tableColumns(plan: ResearchPlan, best: ExperimentNode): string[] {
  const extra = Object.keys(best.metrics)
    .filter((k) => k !== plan.metric.name)
    .slice(0, EXTRA_COLUMNS);
  return [plan.metric.name, ...extra];
}

export interface Tables {
  results: string;
  ablations: string;
  /** The same numbers as text, for the writing prompt. */
  preview: string;
  claims: Claim[];
}

/** A signed recorded value as LaTeX (`+0.05`). */
const signedLatex = (value: number): string =>
  latexNumber(value).replace('\\ensuremath{', value > 0 ? '\\ensuremath{+' : '\\ensuremath{');

/**
 * The results table (every working non-ablation experiment, plus the seed summary and the gain over the user's
 * starting code) and the ablation table.
 */
export function paperTables(
  plan: ResearchPlan,
  nodes: ExperimentNode[],
  seeds: SeedResult | null,
  gain: StartingCodeGain | null = null,
): Tables {
  const best = bestNode(nodes, plan.metric.direction);
  const claims: Claim[] = [];
  if (!best) {
    return {
      results: 'No experiment produced the primary metric.',
      ablations: '',
      preview: '(no successful experiments)',
      claims,
    };
  }
  const columns = tableColumns(plan, best);
  const sign = plan.metric.direction === 'maximize' ? -1 : 1;
  let rows = goodNodes(nodes).filter((n) => n.operator !== 'ablation');
  const totalRows = rows.length;
  if (rows.length > MAX_TABLE_ROWS) {
    const keep = new Set(
      [...rows]
        .sort((a, b) => sign * (a.primary! - b.primary!))
        .slice(0, MAX_TABLE_ROWS)
        .map((n) => n.id),
    );
    rows = rows.filter((n) => keep.has(n.id));
  }
  const cell = (node: ExperimentNode, column: string, table: string) => {
    const value = node.metrics[column];
    if (value === undefined) return '--';
    const text = latexNumber(value);
    claims.push({
      id: `${table}:${node.id}:${column}`,
      kind: 'table_cell',
      value,
      shown: text,
      nodeId: node.id,
      artifact: resultsOf(node.id),
      key: column,
      where: table,
    });
    // The best value of the primary metric is bold, in every row that reached it (a tie bolds each), nothing else.
    return column === plan.metric.name && value === best.primary ? `\\textbf{${text}}` : text;
  };
  const header = ['Experiment', 'Stage / step', ...columns.map(metricLabel)].join(' & ');
  const step = (n: ExperimentNode) =>
    n.id === gain?.startNodeId ? `${n.stage} / starting code` : `${n.stage} / ${n.operator}`;
  const body = rows.map((n) => [n.id, step(n), ...columns.map((c) => cell(n, c, 'tab:results'))].join(' & ') + ' \\\\');
  const seedsIgnored = seeds !== null && seeds.values.length > 1 && seeds.ignored;
  if (seeds && seeds.values.length > 1) {
    const spread = meanAndStd(seeds.mean, seeds.std);
    const shown = seedsIgnored ? `${spread.mean} (every seed)` : `${spread.mean} $\\pm$ ${spread.std}`;
    claims.push({
      id: `tab:results:${seeds.nodeId}:seeds`,
      kind: 'seed_summary',
      value: seeds.mean,
      shown,
      nodeId: seeds.nodeId,
      artifact: 'seeds/summary.json',
      key: 'mean',
      where: 'tab:results',
    });
    const what = seedsIgnored
      ? `same for all ${seeds.values.length} seeds`
      : `mean $\\pm$ std, ${seeds.values.length} seeds`;
    body.push('\\midrule', `${seeds.nodeId} & ${what} & ${shown}${' & --'.repeat(columns.length - 1)} \\\\`);
  }
  if (gain) {
    const relative = signedPercent(gain.relative);
    const shown = `${signedLatex(gain.absolute)}${relative ? ` (${escapeLatex(relative)})` : ''}`;
    claims.push({
      id: `tab:results:${gain.bestNodeId}:gain`,
      kind: 'starting_code_gain',
      value: gain.absolute,
      shown,
      nodeId: gain.bestNodeId,
      artifact: resultsOf(gain.startNodeId),
      key: gain.metric,
      where: 'tab:results',
    });
    body.push(
      '\\midrule',
      `${gain.startNodeId} $\\to$ ${gain.bestNodeId} & gain over the starting code & ${shown}${' & --'.repeat(columns.length - 1)} \\\\`,
    );
  }
  const arrow = plan.metric.direction === 'maximize' ? 'higher' : 'lower';
  const searched = nodes.filter((n) => n.operator !== 'ablation').length;
  const ablationCount = nodes.length - searched;
  // The counts say what they count, so they agree with the text's "Of N experiments, M failed" (ablations included).
  const caption =
    `Every experiment that ran without error, ablations aside: ${totalRows} of the ${searched} that were not ` +
    `ablations${totalRows > rows.length ? ` (the best ${MAX_TABLE_ROWS} shown)` : ''}` +
    `${ablationCount > 0 ? `; the ${ablationCount} ${ablationCount === 1 ? 'ablation is' : 'ablations are'} in Table~\\ref{tab:ablations}` : ''}. ` +
    `Values are exactly those the experiment code wrote to results.json. Primary metric: ${metricLabel(plan.metric.name)} ` +
    `(${arrow} is better); its best value in bold.` +
    (seeds && seeds.values.length > 1
      ? seedsIgnored
        ? ` The best program re-run with ${seeds.values.length} seeds gave exactly the same value every time: the seeds had no effect (the program is deterministic or ignores SEED), so there is no spread to report.`
        : ' The seed row re-runs the best program with different seeds.'
      : '') +
    (gain
      ? ` The last row is the change from ${escapeLatex(startingCodeName(gain))} (${gain.startNodeId}, run as it is: ${latexNumber(gain.startValue)}) to the best experiment (${gain.bestNodeId}: ${latexNumber(gain.bestValue)})${gain.improved ? '' : '; the search did not improve on it'}.`
      : '');
  const results = tableEnvironment('tab:results', caption, `ll${'r'.repeat(columns.length)}`, header, body);

  const ablationNodes = nodes.filter((n) => n.operator === 'ablation');
  let ablations = 'No ablation experiments were run.';
  if (ablationNodes.length > 0) {
    const metric = plan.metric.name;
    const ablationBody = ablationNodes.map((n) => {
      const what = escapeLatex(clipAtWord(n.plan, 90));
      if (n.buggy || n.primary === null) return `${n.id} & ${what} & failed & -- \\\\`;
      const value = cell(n, metric, 'tab:ablations');
      const delta = n.primary - best.primary!;
      return `${n.id} & ${what} & ${value} & ${delta >= 0 ? '+' : ''}${latexNumber(delta)} \\\\`;
    });
    ablationBody.unshift(`${best.id} (best, nothing removed) & & ${latexNumber(best.primary!)} & -- \\\\`, '\\midrule');
    ablations = tableEnvironment(
      'tab:ablations',
      `Ablations: the best program with one component removed or replaced. $\\Delta$ is the change in ${metricLabel(metric)} against ${best.id}.`,
      'lp{0.5\\linewidth}rr',
      `Experiment & What changed & ${metricLabel(metric)} & $\\Delta$`,
      ablationBody,
    );
  }

  const preview = [
    `Table~\\ref{tab:results}: | experiment | stage/step | ${columns.join(' | ')} |`,
    ...rows.map(
      (n) =>
        `| ${n.id}${n === best ? ' (best)' : ''} | ${n.id === gain?.startNodeId ? `${n.stage}/starting code` : `${n.stage}/${n.operator}`} | ${columns
          .map((c) => (n.metrics[c] === undefined ? '--' : formatNumber(n.metrics[c])))
          .join(' | ')} |`,
    ),
    ...(seeds && seeds.values.length > 1
      ? [
          seedsIgnored
            ? `| ${seeds.nodeId} over ${seeds.values.length} seeds | same value for every seed | ${formatNumber(seeds.mean)} | — the seeds had no effect (the program is deterministic or ignores SEED): say so, do not report a ± |`
            : `| ${seeds.nodeId} over ${seeds.values.length} seeds | mean ± std | ${formatNumber(seeds.mean)} ± ${formatNumber(seeds.std)} |`,
        ]
      : []),
    ...(gain
      ? [
          `| ${gain.startNodeId} (${startingCodeName(gain)}, run as it is) → ${gain.bestNodeId} (best) | gain | ${formatNumber(gain.startValue)} → ${formatNumber(gain.bestValue)}: ${signed(gain.absolute)}${gain.relative === null ? '' : ` (${signedPercent(gain.relative)})`} | — report it with \\startvalue, \\gainabs, \\gainrel |`,
        ]
      : []),
    ablationNodes.length > 0
      ? `Table~\\ref{tab:ablations}:\n${ablationNodes.map((n) => `| ${n.id} | ${clip(n.plan, 80)} | ${n.primary === null ? 'failed' : formatNumber(n.primary)} |`).join('\n')}`
      : 'No ablations (do not refer to Table~\\ref{tab:ablations}).',
  ].join('\n');
  return { results, ablations, preview, claims };
}

function tableEnvironment(label: string, caption: string, columns: string, header: string, body: string[]): string {
  return [
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${caption}}`,
    `\\label{${label}}`,
    '\\begin{adjustbox}{max width=\\linewidth}',
    `\\begin{tabular}{${columns}}`,
    '\\toprule',
    `${header} \\\\`,
    '\\midrule',
    ...body,
    '\\bottomrule',
    '\\end{tabular}',
    '\\end{adjustbox}',
    '\\end{table}',
  ].join('\n');
}

export interface PaperFigure {
  /** File name inside the paper directory, e.g. figure1.png. */
  file: string;
  label: string;
  caption: string;
}

export function figuresLatex(figures: PaperFigure[]): string {
  return figures
    .map((f) =>
      [
        '\\begin{figure}[t]',
        '\\centering',
        `\\includegraphics[width=\\linewidth]{${f.file}}`,
        `\\caption{${escapeLatex(f.caption)}}`,
        `\\label{${f.label}}`,
        '\\end{figure}',
      ].join('\n'),
    )
    .join('\n\n');
}

export interface PaperDocument {
  runId: string;
  date: string;
  sections: PaperSections;
  tables: Tables;
  figures: PaperFigure[];
  hasBibliography: boolean;
  reproducibility: string;
}

/**
 * Fills the template. Title is plain text (escaped); the other sections are the model's LaTeX. The whole document
 * then goes through `printableLatex`: `dropped` lists the characters the fonts could not print (for a warning).
 */
export function renderPaper(doc: PaperDocument, template = PAPER_TEMPLATE): { tex: string; dropped: string[] } {
  const s = doc.sections;
  const slots: Record<string, string> = {
    TITLE: escapeLatex(s.title),
    RUN_ID: escapeLatex(doc.runId),
    DATE: escapeLatex(doc.date),
    ABSTRACT: s.abstract,
    INTRODUCTION: s.introduction,
    RELATED_WORK: s.related_work,
    METHOD: s.method,
    EXPERIMENTAL_SETUP: s.experimental_setup,
    RESULTS_TABLE: doc.tables.results,
    FIGURES: figuresLatex(doc.figures),
    RESULTS: s.results,
    ABLATION_TABLE: doc.tables.ablations,
    ABLATIONS: s.ablations,
    LIMITATIONS: s.limitations,
    CONCLUSION: s.conclusion,
    BIBLIOGRAPHY: doc.hasBibliography ? '\\bibliographystyle{plain}\n\\bibliography{references}' : '',
    REPRODUCIBILITY: doc.reproducibility,
  };
  const filled = template.replace(/@@([A-Z_]+)@@/g, (whole, name: string) => slots[name] ?? whole);
  const { text, dropped } = printableLatex(filled);
  return { tex: text, dropped };
}

/**
 * Sections written from the recorded data alone, for when the model's LaTeX cannot be made to compile or the
 * budget is spent: the paper still appears, plainly worded, with the same generated tables and numbers.
 */
export function fallbackSections(
  goal: string,
  plan: ResearchPlan,
  nodes: ExperimentNode[],
  insights: string[],
  measured: {
    seeds?: SeedResult | null;
    gain?: StartingCodeGain | null;
    /** The user's papers: even a paper written without the model cites them. */
    userKeys?: string[];
  } = {},
): PaperSections {
  const best = bestNode(nodes, plan.metric.direction);
  const { seeds, gain, userKeys = [] } = measured;
  const seedText =
    seeds && seeds.values.length > 1
      ? seeds.ignored
        ? ` Re-run with \\numseeds{} seeds, the best program gave the same value every time: the seeds had no effect (the program is deterministic or ignores SEED).`
        : ` Over \\numseeds{} seeds the best program reached \\seedmean{} $\\pm$ \\seedstd{}.`
      : '';
  const gainText = gain
    ? ` ${escapeLatex(capitalize(startingCodeName(gain)))}, run as it is (${gain.startNodeId}), reached \\startvalue{}; the best experiment changed that by \\gainabs{}${gain.relative === null ? '' : ' (\\gainrel{})'}${gain.improved ? '' : ', no improvement'}.`
    : '';
  const ablations = nodes.filter((n) => n.operator === 'ablation');
  return {
    title: plan.title,
    abstract:
      `This automatically generated report addresses the question: ${escapeLatex(goal)} ` +
      `We ran \\numexperiments{} experiments (\\numfailed{} failed). ` +
      (best
        ? `The best experiment (\\bestiteration) reached \\metricname{} $=$ \\bestvalue{}.`
        : 'No experiment produced the primary metric.'),
    introduction: `Hypothesis: ${escapeLatex(plan.hypothesis)}`,
    related_work:
      userKeys.length > 0
        ? `This report was written without the language model; it builds on the papers provided with the question~\\cite{${userKeys.join(',')}}.`
        : 'This report was written without the language model; it does not discuss related work.',
    method: `${escapeLatex(plan.plan)}\n\nThe primary metric is \\texttt{\\metricname{}}: ${escapeLatex(plan.metric.description)}`,
    experimental_setup:
      'Every experiment ran as a Python program in a network-less, resource-limited sandbox; metrics were read from the results.json file each program wrote.',
    results: best
      ? `Table~\\ref{tab:results} lists every successful experiment. The first working experiment reached \\firstvalue{}; the best reached \\bestvalue{}.${gainText}${seedText} The best experiment's approach: ${escapeLatex(best.plan)}${
          insights.length > 0 ? `\n\nLessons recorded during the run: ${insights.map(escapeLatex).join(' ')}` : ''
        }`
      : 'No experiment completed successfully.',
    ablations:
      ablations.length > 0 ? 'Table~\\ref{tab:ablations} lists the ablation experiments.' : 'No ablations were run.',
    limitations:
      'These are small automated experiments on generated data; the conclusions are limited to that setting.',
    conclusion:
      'The text of this report was generated without the language model (its LaTeX did not compile or the budget was exhausted); the numbers are the recorded measurements.',
  };
}

/** The useful part of a LaTeX log: each error line with the few lines that locate it. */
export function latexErrors(log: string, max = 3000): string {
  const lines = log.split('\n');
  const picked: string[] = [];
  lines.forEach((line, i) => {
    if (line.startsWith('!') || /^\S+\.tex:\d+:/.test(line) || /^l\.\d+/.test(line)) {
      picked.push(...lines.slice(i, i + (line.startsWith('!') || /\.tex:\d+:/.test(line) ? 3 : 1)));
    }
  });
  const text = [...new Set(picked)].join('\n') || lines.slice(-40).join('\n');
  return text.length > max ? text.slice(0, max) : text;
}

/** Pages of the compiled PDF, from the log line "Output written on paper.pdf (N pages, …)". */
export function pageCount(log: string): number | null {
  const match = /Output written on \S+ \((\d+) pages?/.exec(log);
  return match ? Number(match[1]) : null;
}

/** Citation keys used in the sections that are not among the known ones. */
export function unknownCitations(sections: PaperSections, known: Set<string>): string[] {
  const unknown = new Set<string>();
  for (const text of Object.values(sections)) {
    for (const match of text.matchAll(/\\cite[tp]?\*?(?:\[[^\]]*\])?\{([^}]*)\}/g)) {
      for (const key of match[1]!.split(',').map((k) => k.trim())) if (key && !known.has(key)) unknown.add(key);
    }
  }
  return [...unknown];
}
