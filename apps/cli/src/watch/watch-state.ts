import type {
  ExperimentStage,
  MetricDirection,
  NodeOperator,
  ReviewSummary,
  RunError,
  RunEvent,
  RunRecord,
  RunStage,
  RunStatus,
  Usage,
} from '@autolab/contracts';
import { describeEvent } from '../event-format.js';

export interface RunningNode {
  nodeId: string;
  operator: NodeOperator;
  parentId: string | null;
  /** ISO time of its `node.created`. */
  since: string;
}

/** What the live view shows about a run, built from its record and its events only. */
export interface WatchState {
  runId: string;
  /** `null` until the record or the first event says. */
  status: RunStatus | null;
  stage: RunStage | null;
  experimentStage: ExperimentStage | null;
  /** Experiments the current search stage may run (from `search.stage`). */
  stageBudget: number | null;
  /** Experiments finished. */
  iteration: number;
  maxIterations: number | null;
  /** An evolve run's generations: finished (from `generation.finished`) and the most (its settings); null otherwise. */
  generations: { finished: number; max: number | null } | null;
  /** Nodes finished in this attempt of the log (a rerun starts a new set). */
  finishedNodes: readonly string[];
  runningNodes: readonly RunningNode[];
  best: { name: string; value: number; direction: MetricDirection; nodeId: string } | null;
  costUsd: number;
  budgetUsd: number | null;
  tokens: number;
  /** Of `tokens`: the prompt's, those the provider's prefix cache served, and those estimated (no usage reported). */
  promptTokens: number;
  cachedTokens: number;
  estimatedTokens: number;
  maxTokens: number | null;
  calls: number;
  timeLimitMinutes: number | null;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  attempt: number;
  review: ReviewSummary | null;
  error: RunError | null;
  /** The latest event other than program output, described in one line. */
  activity: { time: string; type: string; text: string } | null;
  /** A transient remark about the connection (reconnecting …), cleared by the next event. */
  notice: string | null;
  /** Events seen so far. */
  events: number;
}

export type WatchAction =
  | { type: 'record'; record: RunRecord }
  | { type: 'event'; event: RunEvent }
  /** An event of a type this CLI does not know (a newer server). */
  | { type: 'unknown-event'; eventType: string; time: string; message: string }
  | { type: 'notice'; text: string | null };

export function initialWatchState(runId: string): WatchState {
  return {
    runId,
    status: null,
    stage: null,
    experimentStage: null,
    stageBudget: null,
    iteration: 0,
    maxIterations: null,
    generations: null,
    finishedNodes: [],
    runningNodes: [],
    best: null,
    costUsd: 0,
    budgetUsd: null,
    tokens: 0,
    promptTokens: 0,
    cachedTokens: 0,
    estimatedTokens: 0,
    maxTokens: null,
    calls: 0,
    timeLimitMinutes: null,
    createdAt: null,
    startedAt: null,
    finishedAt: null,
    attempt: 0,
    review: null,
    error: null,
    activity: null,
    notice: null,
    events: 0,
  };
}

/** The state machine of the live view: pure, so every transition can be tested without a terminal or a server. */
export function reduceWatch(state: WatchState, action: WatchAction): WatchState {
  switch (action.type) {
    case 'record':
      return applyRecord(state, action.record);
    case 'event':
      return applyEvent(state, action.event);
    case 'unknown-event':
      return {
        ...state,
        events: state.events + 1,
        notice: null,
        activity: { time: action.time, type: action.eventType, text: action.message },
      };
    case 'notice':
      return { ...state, notice: action.text };
  }
}

/** The record is the authority when it is read: at the start, and when a `run.finished` turns out not to be final. */
export function applyRecord(state: WatchState, record: RunRecord): WatchState {
  return {
    ...state,
    status: record.status,
    stage: record.stage,
    experimentStage: record.experimentStage,
    iteration: record.iteration,
    maxIterations: record.maxIterations,
    generations:
      record.mode === 'evolve'
        ? { finished: state.generations?.finished ?? 0, max: record.policy.evolve?.generations ?? null }
        : null,
    best: record.bestMetric
      ? {
          name: record.bestMetric.name,
          value: record.bestMetric.value,
          direction: record.bestMetric.direction,
          nodeId: record.bestMetric.nodeId,
        }
      : null,
    ...usageFields(record.usage),
    budgetUsd: record.budgetUsd,
    maxTokens: record.policy.maxTokens,
    timeLimitMinutes: record.timeLimitMinutes,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    attempt: record.attempt,
    review: record.review,
    error: record.error,
  };
}

export function applyEvent(state: WatchState, event: RunEvent): WatchState {
  // An event after `run.finished` means the run was started again (a rerun): what belonged to the finished attempt
  // no longer describes the run.
  const base: WatchState =
    state.finishedAt !== null && state.status !== null && isFinal(state.status) && event.type !== 'run.finished'
      ? { ...state, finishedAt: null, error: null, review: null, finishedNodes: [], runningNodes: [], status: 'queued' }
      : state;
  const next: WatchState = { ...base, events: base.events + 1, notice: null };
  if (event.type !== 'exec.output') {
    next.activity = { time: event.time, type: event.type, text: describeEvent(event) };
  }
  switch (event.type) {
    case 'run.queued':
      return { ...next, status: 'queued', createdAt: next.createdAt ?? event.time };
    case 'run.started':
      return {
        ...next,
        status: 'running',
        attempt: Math.max(next.attempt, event.data.attempt),
        startedAt: next.startedAt ?? event.time,
        runningNodes: [],
      };
    case 'run.requeued':
      return { ...next, status: 'queued', runningNodes: [] };
    case 'run.finished': {
      const { status, error, usage } = event.data;
      return {
        ...next,
        status,
        error,
        finishedAt: event.time,
        runningNodes: [],
        ...usageFields(usage),
      };
    }
    case 'stage.started':
      return {
        ...running(next),
        stage: event.data.stage,
        ...(event.data.stage === 'experiments' ? {} : { experimentStage: null, stageBudget: null }),
      };
    case 'stage.finished':
      if (event.data.stage === 'experiments') return { ...next, experimentStage: null, stageBudget: null };
      return next;
    case 'search.stage':
      return {
        ...running(next),
        stage: 'experiments',
        experimentStage: event.data.stage,
        stageBudget: event.data.iterations,
      };
    case 'seed.started':
      // The search is over; the best node runs again with other seeds (the stage line no longer names a search stage).
      return { ...running(next), stage: 'experiments', experimentStage: null, stageBudget: null };
    case 'node.created': {
      const { nodeId, operator, parentId } = event.data;
      const others = next.runningNodes.filter((node) => node.nodeId !== nodeId);
      return { ...running(next), runningNodes: [...others, { nodeId, operator, parentId, since: event.time }] };
    }
    case 'node.finished': {
      const { nodeId } = event.data;
      const finishedNodes = next.finishedNodes.includes(nodeId) ? next.finishedNodes : [...next.finishedNodes, nodeId];
      return {
        ...next,
        finishedNodes,
        runningNodes: next.runningNodes.filter((node) => node.nodeId !== nodeId),
        iteration: Math.max(next.iteration, finishedNodes.length),
      };
    }
    case 'generation.finished':
      // Generation 0 is the initial program: generation n finished means n generations of children.
      return {
        ...running(next),
        generations: {
          finished: Math.max(next.generations?.finished ?? 0, event.data.generation),
          max: next.generations?.max ?? null,
        },
      };
    case 'metric.improved': {
      const { name, value, direction, nodeId } = event.data;
      return { ...next, best: { name, value, direction, nodeId } };
    }
    case 'cost.updated': {
      const { total, budgetUsd } = event.data;
      return { ...next, ...usageFields(total), budgetUsd };
    }
    case 'review.completed': {
      const { overall, decision, confidence, reviewers } = event.data;
      return { ...next, review: { overall, decision, confidence, reviewers } };
    }
    default:
      return next;
  }
}

/** A worker is on it: anything the engine emits means the run is running (the record may be older). */
const running = (state: WatchState): WatchState =>
  state.status === null || state.status === 'queued' ? { ...state, status: 'running' } : state;

const isFinal = (status: RunStatus): boolean => status === 'succeeded' || status === 'failed' || status === 'cancelled';

function usageFields(usage: Usage) {
  return {
    costUsd: usage.costUsd,
    tokens: usage.totalTokens,
    calls: usage.calls,
    promptTokens: usage.promptTokens,
    cachedTokens: usage.cachedTokens,
    estimatedTokens: usage.estimatedTokens,
  };
}
