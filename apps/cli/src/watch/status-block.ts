import type { RunStatus } from '@autolab/contracts';
import { formatNumber, formatUsd, oneLine, tokenNotes } from '../human-format.js';
import { bar, type Palette, palette, truncateToWidth, visibleWidth } from '../terminal/ansi.js';
import type { RunningNode, WatchState } from './watch-state.js';

export interface StatusBlockOptions {
  /** Terminal columns; every line is kept shorter than this so none wraps. */
  width: number;
  color: boolean;
  /** Epoch ms the elapsed times are measured to. */
  now: number;
}

const LABEL_WIDTH = 11;
const MAX_BAR_WIDTH = 24;
/** Below this many columns the bars are left out and the numbers alone remain. */
const MIN_WIDTH_FOR_BARS = 50;
const RUNNING_NODES_SHOWN = 3;

/**
 * The status block the live view keeps at the bottom of the terminal: pure (state in, lines out), so what it shows
 * at any width, with or without colour, is tested without a terminal.
 */
export function renderStatusBlock(state: WatchState, options: StatusBlockOptions): string[] {
  const width = Math.max(1, Math.floor(options.width));
  const p = palette(options.color);
  const barWidth = width >= MIN_WIDTH_FOR_BARS ? Math.min(MAX_BAR_WIDTH, width - LABEL_WIDTH - 26) : 0;
  const field = (label: string, value: string) => `${p.dim(label.padEnd(LABEL_WIDTH))}${value}`;
  const withBar = (fraction: number | null, text: string, tone: (s: string) => string = p.cyan) =>
    fraction === null || barWidth < 6 ? text : `${tone(bar(fraction, barWidth))}  ${text}`;

  const lines = [
    rule(state, width, p),
    field('stage', describeStage(state, p)),
    state.generations
      ? field('generation', withBar(generationFraction(state.generations), describeGenerations(state.generations)))
      : field('iteration', withBar(iterationFraction(state), describeIterations(state))),
    field('best', describeBest(state)),
  ];
  if (state.review) {
    const { decision, overall, confidence, reviewers } = state.review;
    const tone = decision === 'accept' ? p.green : p.yellow;
    lines.push(
      field('review', `${tone(decision)}, overall ${overall}/10 (confidence ${confidence}, ${reviewers} reviewers)`),
    );
  }
  const costFraction = state.budgetUsd ? state.costUsd / state.budgetUsd : null;
  lines.push(
    field(
      'cost',
      withBar(costFraction, describeCost(state), costFraction !== null && costFraction >= 0.8 ? p.yellow : p.cyan),
    ),
  );
  const elapsed = elapsedMs(state, options.now);
  const limitMs = state.timeLimitMinutes !== null ? state.timeLimitMinutes * 60_000 : null;
  const timeFraction = elapsed !== null && limitMs && state.status === 'running' ? elapsed / limitMs : null;
  lines.push(field('elapsed', withBar(timeFraction, describeElapsed(state, elapsed))));
  lines.push(field('now', describeNow(state, options.now, p)));
  return lines.map((line) => truncateToWidth(line, width - 1));
}

function rule(state: WatchState, width: number, p: Palette): string {
  const status = state.status ?? 'connecting';
  const head = `── ${state.runId} · `;
  const used = visibleWidth(head) + status.length + 1;
  return `${p.dim(head)}${statusTone(state.status, p)(status)} ${p.dim('─'.repeat(Math.max(0, width - 1 - used)))}`;
}

function statusTone(status: RunStatus | null, p: Palette): (text: string) => string {
  switch (status) {
    case 'succeeded':
      return (text) => p.bold(p.green(text));
    case 'failed':
      return (text) => p.bold(p.red(text));
    case 'cancelled':
      return (text) => p.bold(p.yellow(text));
    case 'running':
      return (text) => p.bold(p.cyan(text));
    default:
      return p.bold;
  }
}

function describeStage(state: WatchState, p: Palette): string {
  let text: string;
  if (state.stage === null) text = state.status === 'queued' ? 'waiting for a worker' : '-';
  else if (state.experimentStage) {
    const budget =
      state.stageBudget !== null ? ` (up to ${state.stageBudget} experiment${state.stageBudget === 1 ? '' : 's'})` : '';
    text = `${state.stage} › ${state.experimentStage}${budget}`;
  } else text = state.stage;
  return state.attempt > 1 ? `${text}  ${p.dim(`attempt ${state.attempt}`)}` : text;
}

const iterationFraction = (state: WatchState): number | null =>
  state.maxIterations ? state.iteration / state.maxIterations : null;

const generationFraction = (g: NonNullable<WatchState['generations']>): number | null =>
  g.max ? g.finished / g.max : null;

function describeGenerations(g: NonNullable<WatchState['generations']>): string {
  if (g.max === null) return `${g.finished} generations`;
  return `${g.finished}/${g.max} (${Math.round((100 * g.finished) / Math.max(1, g.max))}%)`;
}

function describeIterations(state: WatchState): string {
  if (state.maxIterations === null) return `${state.iteration} experiments`;
  const percent = Math.round((100 * state.iteration) / Math.max(1, state.maxIterations));
  return `${state.iteration}/${state.maxIterations} (${percent}%)`;
}

function describeBest(state: WatchState): string {
  if (!state.best) return '-';
  const { name, value, direction, nodeId } = state.best;
  return `${name} = ${formatNumber(value)} (${direction}, ${nodeId})`;
}

function describeCost(state: WatchState): string {
  // No USD budget: a model of the run has no price, so its cost is not what it spent.
  const budget = state.budgetUsd !== null ? ` of ${formatUsd(state.budgetUsd)}` : ' (price unknown, no USD budget)';
  const tokens = `${state.tokens.toLocaleString('en-US')}${state.maxTokens !== null ? ` of ${state.maxTokens.toLocaleString('en-US')}` : ''} tokens`;
  const notes = tokenNotes({ ...state, totalTokens: state.tokens });
  return `${formatUsd(state.costUsd)}${budget}, ${tokens}${notes}`;
}

/** From the first start (or the submission while queued) to the end, or to now while it runs. */
function elapsedMs(state: WatchState, now: number): number | null {
  const from = state.startedAt ?? state.createdAt;
  if (!from) return null;
  const start = Date.parse(from);
  const end = state.finishedAt ? Date.parse(state.finishedAt) : now;
  return Number.isNaN(start) || Number.isNaN(end) ? null : Math.max(0, end - start);
}

function describeElapsed(state: WatchState, elapsed: number | null): string {
  if (elapsed === null) return '-';
  const text = state.startedAt ? formatElapsed(elapsed) : `${formatElapsed(elapsed)} in the queue`;
  return state.timeLimitMinutes !== null ? `${text} (limit ${formatElapsed(state.timeLimitMinutes * 60_000)})` : text;
}

/** `45s`, `2m05s`, `1h02m`: whole seconds, so a redraw every second does not flicker tenths. */
export function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}

function describeNow(state: WatchState, now: number, p: Palette): string {
  if (state.notice) return p.yellow(oneLine(state.notice));
  if (state.status === 'failed' && state.error) return p.red(`${state.error.code}: ${oneLine(state.error.message)}`);
  if (state.status === 'succeeded' || state.status === 'failed' || state.status === 'cancelled') return state.status;
  if (state.runningNodes.length > 0) return describeRunningNodes(state.runningNodes, now);
  if (!state.activity) return state.status === 'queued' ? 'waiting for a worker' : '-';
  return `${state.activity.type}: ${state.activity.text}`;
}

function describeRunningNodes(nodes: readonly RunningNode[], now: number): string {
  const shown = nodes.slice(0, RUNNING_NODES_SHOWN).map((node) => {
    const parent = node.parentId ? ` of ${node.parentId}` : '';
    const since = Date.parse(node.since);
    const age = Number.isNaN(since) ? '' : ` (${formatElapsed(Math.max(0, now - since))})`;
    return `${node.nodeId} ${node.operator}${parent}${age}`;
  });
  const more = nodes.length > RUNNING_NODES_SHOWN ? `, +${nodes.length - RUNNING_NODES_SHOWN} more` : '';
  return `running ${shown.join(', ')}${more}`;
}
