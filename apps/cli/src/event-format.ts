import type { EventOf, RunEvent } from '@autolab/contracts';
import {
  type ClockOptions,
  formatClock,
  formatDuration,
  formatNumber,
  formatUsd,
  lastLine,
  oneLine,
  sanitize,
} from './human-format.js';

const TYPE_WIDTH = 14;
const MAX_METRICS_SHOWN = 4;
/** A program line longer than this is printed in pieces rather than held back until its newline. */
const MAX_PENDING_CHARS = 4096;

/** What an event says, without its time and type: `n002 ok final_loss=0.1234 (3.2s)`. */
export function describeEvent(event: RunEvent): string {
  switch (event.type) {
    case 'run.queued':
      return oneLine(event.data.goal, 120);
    case 'run.started':
    case 'run.requeued':
    case 'run.cancel_requested':
      return oneLine(event.message);
    case 'run.finished': {
      const { status, error, usage } = event.data;
      const why = error ? ` ${error.code}: ${oneLine(error.message)}` : '';
      return `${status}${why} (${formatUsd(usage.costUsd)}, ${usage.calls} model calls)`;
    }
    case 'stage.started':
      return event.data.stage;
    case 'stage.finished':
      return `${event.data.stage}: ${oneLine(event.data.reason, 120)}`;
    case 'inputs.described':
      return event.data.inputs
        .map((i) => `${i.kind} ${i.template ? `template ${i.template}` : i.uploadId} (${i.files} files)`)
        .join(', ');
    case 'inputs.papers': {
      const { uploadId, references, unreadable } = event.data;
      return `${uploadId}: ${references.length} reference(s)${unreadable.length > 0 ? `, ${unreadable.length} unreadable` : ''}`;
    }
    case 'idea.proposed':
      return `round ${event.data.round}: ${event.data.ideas.map((i) => oneLine(i.title, 60)).join(' | ')}`;
    case 'literature.searched': {
      const { query, source, count, cached } = event.data;
      return `${count} papers from ${source}${cached ? ' (cached)' : ''} for "${oneLine(query, 80)}"`;
    }
    case 'idea.chosen':
      return `${oneLine(event.data.title, 100)}: ${oneLine(event.data.reason, 120)}`;
    case 'search.stage':
      return `${event.data.stage} (${event.data.iterations} experiments): ${oneLine(event.data.goal, 100)}`;
    case 'insights.updated':
      return event.data.insights.length > 0 ? oneLine(event.data.insights.at(-1)!, 140) : 'no insights';
    case 'stage.progress':
      return `${event.data.stage}: ${event.data.step} (${formatDuration(event.data.elapsedMs)})`;
    case 'seed.started':
      return `${event.data.nodeId} seed ${event.data.seed} of ${event.data.of}`;
    case 'seed.finished': {
      const { nodeId, seed, value, durationMs } = event.data;
      return `${nodeId} seed ${seed} ${value === null ? 'failed' : `= ${formatNumber(value)}`} (${formatDuration(durationMs)})`;
    }
    case 'seeds.evaluated': {
      const { nodeId, metric, seeds, mean, std, ignored } = event.data;
      if (ignored)
        return `${nodeId} ${metric} = ${formatNumber(mean)} for all ${seeds.length} seeds (SEED had no effect)`;
      return `${nodeId} ${metric} = ${formatNumber(mean)} ± ${formatNumber(std)} over ${seeds.length} seeds`;
    }
    case 'evaluation.scored': {
      const { metric, graded, best, bestByValidation } = event.data;
      const scores = graded.map((g) => `${g.nodeId} ${g.value === null ? 'not graded' : formatNumber(g.value)}`);
      const differs =
        best && best.nodeId !== bestByValidation ? `; best held-out ${best.nodeId}, not ${bestByValidation}` : '';
      return `held-out ${metric}: ${scores.join(', ')}${differs}`;
    }
    case 'review.completed': {
      const { overall, decision, confidence, reviewers } = event.data;
      return `${decision} (overall ${overall}/10, confidence ${confidence}, ${reviewers} reviewers)`;
    }
    case 'hint.received':
      return `${event.data.hintId}: ${oneLine(event.data.text, 120)}`;
    case 'hint.applied':
      return `${event.data.hintId} used in ${event.data.step}`;
    case 'lessons.applied':
      return `${event.data.lessonIds.join(', ')} in ${event.data.step}`;
    case 'lessons.learned': {
      const { created, updated, dropped } = event.data;
      return `${created.length} new, ${updated.length} updated${dropped > 0 ? `, ${dropped} dropped (not shown by the results)` : ''}`;
    }
    case 'candidate.created': {
      const { candidateId, origin, parentIds, island, model, summary } = event.data;
      const from = parentIds.length > 0 ? ` of ${parentIds.join(' + ')}` : '';
      return `${candidateId} ${origin}${from} on island ${island}${model ? ` by ${model}` : ''}: ${oneLine(summary, 100)}`;
    }
    case 'candidate.rejected': {
      const { model, similarTo, similarity, measure, rejections } = event.data;
      return `${model ?? 'a model'}'s child is ${formatNumber(similarity)} similar (${measure}) to ${similarTo}; ${rejections} rejected so far`;
    }
    case 'candidate.evaluated': {
      const { candidateId, status, score, error, improved } = event.data;
      if (status !== 'evaluated') return `${candidateId} ${status}: ${oneLine(error ?? '', 120)}`;
      return `${candidateId} score ${formatNumber(score!)}${improved ? ' (improved on its parent)' : ''}`;
    }
    case 'generation.finished': {
      const { generation, bestCandidateId, bestScore, evaluated, incorrect, failed, rejected } = event.data;
      const best =
        bestScore === null ? 'no correct program yet' : `best ${formatNumber(bestScore)} (${bestCandidateId})`;
      return `generation ${generation}: ${best}; ${evaluated} scored, ${incorrect} incorrect, ${failed} failed, ${rejected} rejected`;
    }
    case 'models.allocated':
      return `generation ${event.data.generation} → ${event.data.model}: ${oneLine(event.data.reason, 120)}`;
    case 'islands.migrated':
      return event.data.moves.map((m) => `${m.candidateId} ${m.from}→${m.to}`).join(', ') || 'nothing moved';
    case 'recommendations.updated':
      return `${event.data.recommendations.length} recommendation(s): ${oneLine(event.data.recommendations[0]?.text ?? '', 100)}`;
    case 'plan.ready': {
      const { title, metric } = event.data;
      return `${oneLine(title, 100)}: ${metric.direction} ${metric.name}`;
    }
    case 'node.created': {
      const { nodeId, parentId, operator, iteration, plan } = event.data;
      const parent = parentId ? ` of ${parentId}` : '';
      return `${nodeId} ${operator}${parent} (iteration ${iteration}): ${oneLine(plan, 100)}`;
    }
    case 'exec.output':
      return `${event.data.nodeId} ${event.data.stream}: ${oneLine(event.data.text)}`;
    case 'node.finished':
      return describeNodeFinished(event);
    case 'metric.improved': {
      const { nodeId, name, value, previous, direction } = event.data;
      // A tie broken by the judge: the best value did not change, the node holding it did.
      if (previous === value)
        return `${nodeId} chosen among nodes with equal ${name} ${formatNumber(value)}, ${direction}`;
      const change =
        previous === null ? `${formatNumber(value)} (first)` : `${formatNumber(previous)} → ${formatNumber(value)}`;
      return `${nodeId} ${name} ${change}, ${direction}`;
    }
    case 'figure.created':
      return event.data.nodeId ? `${event.data.path} (${event.data.nodeId})` : event.data.path;
    case 'figures.critiqued': {
      const { model, figures, revision } = event.data;
      const revise = figures.filter((f) => f.verdict === 'revise');
      const problems = revise.map((f) => `${f.file}: ${f.problems[0] ?? 'revise'}`).join('; ');
      const outcome = { none: 'no revision', done: 'revised once', failed: 'the revision drew nothing' }[revision];
      return oneLine(
        `${model}: ${revise.length} of ${figures.length} to revise${problems ? ` (${problems})` : ''}; ${outcome}`,
        200,
      );
    }
    case 'paper.compiling':
      return `attempt ${event.data.attempt}`;
    case 'paper.compile_failed':
      return `attempt ${event.data.attempt}: ${lastLine(event.data.errorTail)}`;
    case 'paper.ready': {
      const { pdf, attempt, fallback } = event.data;
      return `${pdf} (attempt ${attempt}${fallback ? ', fallback' : ''})`;
    }
    case 'cost.updated': {
      const { purpose, model, promptTokens, completionTokens, cachedTokens, estimated, costUsd, total, budgetUsd } =
        event.data;
      const notes = `${cachedTokens > 0 ? `, ${cachedTokens} cached` : ''}${estimated ? ', estimated' : ''}`;
      return (
        `+${formatUsd(costUsd)} ${purpose} ${model} (${promptTokens}+${completionTokens} tokens${notes}), ` +
        `total ${formatUsd(total.costUsd)}${budgetUsd === null ? '' : ` of ${formatUsd(budgetUsd)}`}`
      );
    }
    case 'error':
      return `${event.data.code} in ${event.data.step}: ${oneLine(event.data.detail)}`;
    case 'warning':
      return `${event.data.code}: ${oneLine(event.data.detail)}`;
    default: {
      const unknown: never = event;
      return oneLine((unknown as { message?: string }).message ?? '');
    }
  }
}

function describeNodeFinished(event: EventOf<'node.finished'>): string {
  const { nodeId, buggy, exitCode, timedOut, durationMs, metrics, error } = event.data;
  let outcome: string;
  if (timedOut) outcome = 'timed out';
  else if (buggy) outcome = exitCode !== null && exitCode !== 0 ? `buggy exit ${exitCode}` : 'buggy';
  else outcome = 'ok';
  const names = Object.keys(metrics);
  const shown = names.slice(0, MAX_METRICS_SHOWN).map((name) => `${name}=${formatNumber(metrics[name]!)}`);
  if (names.length > MAX_METRICS_SHOWN) shown.push(`+${names.length - MAX_METRICS_SHOWN} more`);
  const head = [nodeId, outcome, ...shown, `(${formatDuration(durationMs)})`].join(' ');
  return error && (buggy || timedOut) ? `${head}: ${lastLine(error)}` : head;
}

/**
 * Turns events into terminal lines: one per event, except program output (`exec.output`), whose chunks are cut into
 * the program's own lines, each prefixed with its node and stream. A chunk may end mid-line; the rest of that line
 * is held until it arrives, the node finishes, or the run ends.
 */
export class EventFormatter {
  private readonly pending = new Map<string, { nodeId: string; stream: string; clock: string; text: string }>();

  constructor(private readonly options: ClockOptions = {}) {}

  format(event: RunEvent): string[] {
    if (event.type === 'exec.output') return this.output(event);
    const lines =
      event.type === 'node.finished'
        ? this.flush(event.data.nodeId)
        : event.type === 'run.finished'
          ? this.flush()
          : [];
    lines.push(this.line(event.time, event.type, describeEvent(event)));
    return lines;
  }

  /** An event this CLI does not know (a newer server): its time, type and message. */
  formatUnknown(event: { type: string; time?: unknown; message?: unknown }): string[] {
    const time = typeof event.time === 'string' ? event.time : '';
    const message = typeof event.message === 'string' ? event.message : '';
    return [this.line(time, event.type, oneLine(message))];
  }

  /** Held-back partial output lines, of one node or of all. */
  flush(nodeId?: string): string[] {
    const lines: string[] = [];
    for (const [key, part] of this.pending) {
      if (nodeId !== undefined && part.nodeId !== nodeId) continue;
      this.pending.delete(key);
      if (part.text.length > 0) lines.push(this.outputLine(part.clock, part.nodeId, part.stream, part.text));
    }
    return lines;
  }

  private output(event: EventOf<'exec.output'>): string[] {
    const { nodeId, stream, text } = event.data;
    const key = `${nodeId}\u0000${stream}`;
    const clock = formatClock(event.time, this.options);
    const held = this.pending.get(key)?.text ?? '';
    const pieces = (held + text).split('\n');
    let rest = pieces.pop() ?? '';
    const lines = pieces.map((piece) => this.outputLine(clock, nodeId, stream, piece));
    if (rest.length > MAX_PENDING_CHARS) {
      lines.push(this.outputLine(clock, nodeId, stream, rest));
      rest = '';
    }
    if (rest.length > 0) this.pending.set(key, { nodeId, stream, clock, text: rest });
    else this.pending.delete(key);
    return lines;
  }

  private outputLine(clock: string, nodeId: string, stream: string, raw: string): string {
    // A carriage return redraws the line (progress bars): show what the terminal would have shown last.
    const segments = raw.replace(/\r$/, '').split('\r');
    const visible = segments.filter((s) => s.length > 0).pop() ?? '';
    return sanitize(`${clock}   ${nodeId} ${stream === 'stderr' ? 'err' : 'out'}| ${visible}`);
  }

  private line(time: string, type: string, description: string): string {
    return sanitize(`${formatClock(time, this.options)} ${type.padEnd(TYPE_WIDTH)} ${description}`);
  }
}
