import { EVOLVE_ARTIFACTS } from '@autolab/contracts';
import { programDiff } from '@autolab/evolve';
import { REPORT_SYSTEM, reportPrompt } from './evolve-prompts.js';
import type { Evolution } from './evolve-run.js';
import type { EvolveCandidate } from './evolve-state.js';
import { formatNumber } from './journal.js';
import type { RunContext } from './run-context.js';
import { oneLine } from './text.js';
import { TOOLS } from './tools.js';

/**
 * What an evolve run leaves: the best program, its diff against the initial program, the score-by-generation figure
 * and a short report. Every number in the report is a value the evaluator wrote to metrics.json (or a count of the
 * run's candidates); the model only explains, and a sentence of its with a number in it is left out.
 */
export async function writeEvolveReport(ctx: RunContext, evolution: Evolution): Promise<void> {
  await ctx.enterStage('writeup', 'Writing the best program, its lineage and the report');
  const db = evolution.database;
  const ev = evolution.state;
  const name = ev.fileName;
  const best = db.best();
  const initial = db.candidates()[0];
  if (!best || !initial) return;
  const initialText = await evolution.programOf(initial.id);
  const bestText = await evolution.programOf(best.id);
  const diff = programDiff(initialText, bestText, `${initial.id}/${name}`, `${best.id}/${name}`);
  await ctx.sink.saveArtifact(EVOLVE_ARTIFACTS.bestProgram(name), bestText);
  await ctx.sink.saveArtifact(EVOLVE_ARTIFACTS.bestDiff, diff);
  await ctx.sink.saveArtifact(EVOLVE_ARTIFACTS.database, JSON.stringify(evolution.databaseFile(), null, 2));
  const figure = await drawScoreFigure(ctx, evolution).catch(async (err: Error) => {
    if (ctx.signal.aborted) throw err;
    await ctx.emit({
      type: 'warning',
      message: `The score-by-generation figure could not be drawn: ${oneLine(err.message, 200)}`,
      data: { code: 'figure_failed', detail: err.message.slice(0, 1000) },
    });
    return false;
  });
  const lineage = db
    .lineage(best.id)
    .reverse()
    .map((id) => db.get(id)!);
  const explanation = best.id === initial.id ? null : await explain(ctx, lineage, diff);
  const report = renderReport({
    name,
    goal: ctx.input.goal,
    initial,
    best,
    lineage,
    evolution,
    explanation,
    diff,
    figure,
  });
  await ctx.sink.saveArtifact(EVOLVE_ARTIFACTS.report, report);
  ev.reportDone = true;
  await ctx.checkpoint();
}

interface Explanation {
  summary: string | null;
  changes: { candidateId: string; what: string; why: string }[];
  /** Sentences left out because they stated a number. */
  dropped: number;
}

/** The model's account of the lineage, without any number it wrote (the measured ones are in the tables). */
async function explain(ctx: RunContext, lineage: EvolveCandidate[], diff: string): Promise<Explanation | null> {
  if (!ctx.canCallModel('writeup')) return null;
  const reply = await ctx.ask('evolve_report', REPORT_SYSTEM, reportPrompt({ goal: ctx.input.goal, lineage, diff }), [
    TOOLS.evolveReport,
  ]);
  if (!reply.ok) return null;
  const ids = new Set(lineage.map((c) => c.id));
  let dropped = 0;
  const clean = (text: string): string => {
    const kept = sentences(text).filter((s) => {
      const hasNumber = /\d/.test(s.replace(/\bc\d{3,}\b/g, ''));
      if (hasNumber) dropped += 1;
      return !hasNumber;
    });
    return oneLine(kept.join(' '), 2000);
  };
  const summary = clean(reply.value.summary) || null;
  const changes = reply.value.changes
    .filter((c) => ids.has(c.candidate_id))
    .map((c) => ({ candidateId: c.candidate_id, what: clean(c.what), why: clean(c.why) }))
    .filter((c) => c.what || c.why);
  if (dropped > 0) {
    await ctx.emit({
      type: 'warning',
      message: `${dropped} sentence(s) of the model's explanation stated numbers and were left out of the report.`,
      data: { code: 'report_numbers_dropped', detail: `${dropped} sentence(s)` },
    });
  }
  return { summary, changes, dropped };
}

const sentences = (text: string): string[] =>
  text
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter(Boolean);

function renderReport(options: {
  name: string;
  goal: string;
  initial: EvolveCandidate;
  best: EvolveCandidate;
  lineage: EvolveCandidate[];
  evolution: Evolution;
  explanation: Explanation | null;
  diff: string;
  figure: boolean;
}): string {
  const { name, initial, best, lineage, evolution, explanation } = options;
  const ev = evolution.state;
  const all = evolution.database.candidates();
  const count = (status: EvolveCandidate['status']) => all.filter((c) => c.status === status).length;
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
  const metricNames = [...new Set([...Object.keys(initial.metrics), ...Object.keys(best.metrics)])];
  const value = (c: EvolveCandidate, metric: string) =>
    c.metrics[metric] === undefined ? '—' : formatNumber(c.metrics[metric]!);
  const gain = best.score! - initial.score!;
  const lines = [
    `# Evolve report: ${name}`,
    '',
    `Goal: ${options.goal}`,
    '',
    best.id === initial.id
      ? `No candidate beat the program as uploaded (${initial.id}, score ${formatNumber(initial.score!)}).`
      : `The best program is ${best.id} (generation ${best.generation}): score ${formatNumber(best.score!)} against ${formatNumber(initial.score!)} for the program as uploaded (${gain >= 0 ? '+' : ''}${formatNumber(gain)}${initial.score !== 0 ? `, ${formatNumber((100 * gain) / Math.abs(initial.score!))} %` : ''}).`,
    '',
    '## Metrics (as the evaluator wrote them to metrics.json)',
    '',
    `| metric | initial (${initial.id}) | best (${best.id}) |`,
    '|---|---|---|',
    ...metricNames.map((m) => `| ${cell(m)} | ${value(initial, m)} | ${value(best, m)} |`),
    '',
    '## Lineage of the best program',
    '',
    '| candidate | generation | how | model | score | change |',
    '|---|---|---|---|---|---|',
    ...lineage.map(
      (c) =>
        `| ${c.id} | ${c.generation} | ${c.patchType} | ${c.model ?? '—'} | ${formatNumber(c.score!)} | ${cell(oneLine(c.summary, 200))} |`,
    ),
    '',
  ];
  if (explanation?.summary || (explanation?.changes.length ?? 0) > 0) {
    lines.push('## Why it helped (the model’s explanation)', '');
    if (explanation!.summary) lines.push(explanation!.summary, '');
    for (const c of explanation!.changes) lines.push(`- ${c.candidateId}: ${c.what}${c.why ? ` — ${c.why}` : ''}`);
    lines.push('');
  }
  if (options.figure)
    lines.push('## Score by generation', '', '![Best score by generation](score-by-generation.png)', '');
  lines.push(
    '## The search',
    '',
    `${ev.generation} generation(s); ${all.length} candidate(s): ${count('evaluated')} scored, ${count('incorrect')} incorrect, ${count('failed')} failed, ${count('rejected')} rejected as too similar to an existing program.`,
    ...(ev.stopReason ? ['', `Stopped: ${ev.stopReason}.`] : []),
    '',
  );
  const models = Object.entries(ev.bandit);
  if (models.length > 0) {
    lines.push('| model | children evaluated | improved on their parent | cost (USD) |', '|---|---|---|---|');
    for (const [model, s] of models)
      lines.push(`| ${cell(model)} | ${s.pulls} | ${s.improvements} | ${s.costUsd.toFixed(4)} |`);
    lines.push('');
  }
  if (ev.recommendations.length > 0) {
    lines.push('## Recommendations the run wrote for itself', '');
    for (const r of ev.recommendations) lines.push(`- ${r.text} (${r.candidateIds.join(', ')})`);
    lines.push('');
  }
  lines.push('## Diff from the program as uploaded', '', '```diff', options.diff.trimEnd(), '```', '');
  return lines.join('\n');
}

/** The best-so-far score and every scored candidate by generation, drawn by matplotlib in a sandbox. */
async function drawScoreFigure(ctx: RunContext, evolution: Evolution): Promise<boolean> {
  const db = evolution.database;
  const data = {
    points: db
      .candidates()
      .filter((c) => c.status !== 'rejected')
      .map((c) => ({ g: c.generation, s: c.score, island: c.island, ok: c.status === 'evaluated' })),
    best: db.bestByGeneration().map((b) => ({ g: b.generation, s: b.score })),
  };
  const sandbox = await ctx.ports.sandboxes.open('reader', ctx.signal);
  try {
    const outcome = await sandbox.runProgram({
      files: [
        { path: 'data.json', content: Buffer.from(JSON.stringify(data)) },
        { path: 'plot.py', content: Buffer.from(PLOT_SCRIPT) },
      ],
      command: ['python3', 'plot.py'],
      exec: { timeoutMs: 120_000, signal: ctx.signal },
      outputs: { maxFiles: 5, maxFileBytes: 5 * 1024 * 1024, maxTotalBytes: 10 * 1024 * 1024 },
    });
    const png = outcome.files.find((f) => f.path === 'figure.png');
    if (!png) throw new Error(outcome.exec.stderr.text.trim().split('\n').at(-1) ?? 'no figure was written');
    await ctx.sink.saveArtifact(EVOLVE_ARTIFACTS.scoreFigure, png.content);
    await ctx.emit({
      type: 'figure.created',
      message: `Score by generation: ${EVOLVE_ARTIFACTS.scoreFigure}`,
      data: { nodeId: null, path: EVOLVE_ARTIFACTS.scoreFigure },
    });
    return true;
  } finally {
    await sandbox.close();
  }
}

const PLOT_SCRIPT = String.raw`
import json
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

data = json.load(open('data.json'))
fig, ax = plt.subplots(figsize=(6.4, 4), dpi=150)
islands = sorted({p['island'] for p in data['points']})
for island in islands:
    pts = [p for p in data['points'] if p['island'] == island and p['ok']]
    ax.scatter([p['g'] for p in pts], [p['s'] for p in pts], s=18, alpha=0.7, label=f'island {island}')
bad = [p for p in data['points'] if not p['ok']]
if bad:
    scored = [p['s'] for p in data['points'] if p['ok']]
    floor = min(scored) if scored else 0
    ax.scatter([p['g'] for p in bad], [floor] * len(bad), marker='x', color='red', s=22, label='incorrect or failed')
best = [b for b in data['best'] if b['s'] is not None]
ax.step([b['g'] for b in best], [b['s'] for b in best], where='post', color='black', linewidth=1.8, label='best so far')
ax.set_xlabel('generation', fontsize=12)
ax.set_ylabel('score', fontsize=12)
ax.tick_params(labelsize=11)
ax.legend(fontsize=10)
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig('figure.png')
`;
