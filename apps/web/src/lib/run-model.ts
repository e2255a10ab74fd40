import type { EventOf, RerunStage, RunEvent, RunStage, RunStatus, Usage } from '@autolab/contracts';
// The zod-free module: the dashboard does not bundle zod.
import { fileNameAsWords } from '@autolab/contracts/paths';
import { EXPERIMENT_STAGES, stagesRerunFrom } from '@autolab/contracts/stages';

export type NodeStatus = 'running' | 'ok' | 'failed';

export interface TreeNode {
  id: string;
  parentId: string | null;
  operator: string;
  iteration: number;
  stage: string | null;
  plan: string;
  status: NodeStatus;
  metrics: Record<string, number>;
  error: string | null;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number | null;
  stdoutTail: string;
  stderrTail: string;
  analysis: string | null;
  /** Live output while the node runs (capped). */
  liveOutput: string;
}

/** A finished experiment as the metric chart sees it: where it is on the axis, whether it failed, what it measured. */
export interface NodeOutcome {
  nodeId: string;
  iteration: number;
  failed: boolean;
  metrics: Record<string, number>;
}

/** At most this much live output is kept per node; the tail wins. */
const LIVE_OUTPUT_CHARS = 20_000;

/**
 * Everything the run page shows, folded from the run's events. Pure (no DOM), idempotent per event id: replays and
 * duplicates after a reconnect are ignored.
 */
export interface RunModel {
  seen: Set<string>;
  events: RunEvent[];
  lastEventId: string | null;
  status: RunStatus | null;
  stage: RunStage | null;
  experimentStage: string | null;
  stagesDone: string[];
  searchStages: EventOf<'search.stage'>['data'][];
  plan: EventOf<'plan.ready'>['data'] | null;
  ideas: EventOf<'idea.proposed'>['data'][];
  chosenIdea: EventOf<'idea.chosen'>['data'] | null;
  insights: string[];
  seeds: EventOf<'seeds.evaluated'>['data'] | null;
  review: EventOf<'review.completed'>['data'] | null;
  nodes: Map<string, TreeNode>;
  bestNodeId: string | null;
  figures: string[];
  /** Per figure path, the id of its latest `figure.created`: a figure drawn again (revised, rerun) is fetched again. */
  figureVersions: Record<string, string>;
  /** Per figure path, what it shows (see `figureCaption`). */
  figureCaptions: Record<string, string>;
  /** The vision model's critique of the figures (runs with a vision model). */
  figureCritique: EventOf<'figures.critiqued'>['data'] | null;
  paper: EventOf<'paper.ready'>['data'] | null;
  usage: Usage | null;
  budgetUsd: number | null;
  finished: EventOf<'run.finished'>['data'] | null;
  /** Which lessons of earlier runs went into which step (`lessons.applied`, in order; a step's set when it changed). */
  lessonsApplied: EventOf<'lessons.applied'>['data'][];
  /** What the run added to its tenant's lessons when it ended (`lessons.learned`). */
  lessonsLearned: EventOf<'lessons.learned'>['data'] | null;
  /** Index in `events` where the current experiment search began (after a rerun from the experiments: there). */
  searchFrom: number;
}

export function emptyRunModel(): RunModel {
  return {
    seen: new Set(),
    events: [],
    lastEventId: null,
    status: null,
    stage: null,
    experimentStage: null,
    stagesDone: [],
    searchStages: [],
    plan: null,
    ideas: [],
    chosenIdea: null,
    insights: [],
    seeds: null,
    review: null,
    nodes: new Map(),
    bestNodeId: null,
    figures: [],
    figureVersions: {},
    figureCaptions: {},
    figureCritique: null,
    paper: null,
    usage: null,
    budgetUsd: null,
    finished: null,
    lessonsApplied: [],
    lessonsLearned: null,
    searchFrom: 0,
  };
}

/** Applies one event in place; returns false for a duplicate. Unknown event types are only logged. */
export function applyEvent(model: RunModel, event: RunEvent): boolean {
  if (model.seen.has(event.id)) return false;
  model.seen.add(event.id);
  model.events.push(event);
  model.lastEventId = event.id;
  const e = event as RunEvent;
  switch (e.type) {
    case 'run.queued':
      model.status ??= 'queued';
      break;
    case 'run.started':
      model.status = 'running';
      model.finished = null;
      break;
    case 'run.requeued':
      // Also the start of a rerun: the run is live again, and what the rerun redoes is shown anew.
      model.status = 'queued';
      model.finished = null;
      if (e.data.rerunFrom) forgetForRerun(model, e.data.rerunFrom);
      break;
    case 'stage.started':
      model.stage = e.data.stage;
      break;
    case 'stage.finished':
      if (!model.stagesDone.includes(e.data.stage)) model.stagesDone.push(e.data.stage);
      break;
    case 'plan.ready':
      model.plan = e.data;
      break;
    case 'idea.proposed':
      model.ideas.push(e.data);
      break;
    case 'idea.chosen':
      model.chosenIdea = e.data;
      break;
    case 'search.stage':
      model.experimentStage = e.data.stage;
      model.searchStages.push(e.data);
      break;
    case 'insights.updated':
      model.insights = e.data.insights;
      break;
    case 'seeds.evaluated':
      model.seeds = e.data;
      break;
    case 'lessons.applied':
      model.lessonsApplied.push(e.data);
      break;
    case 'lessons.learned':
      model.lessonsLearned = e.data;
      break;
    case 'review.completed':
      model.review = e.data;
      break;
    case 'node.created':
      // A node repeated after a resume starts again from scratch (its output too).
      model.nodes.set(e.data.nodeId, {
        id: e.data.nodeId,
        parentId: e.data.parentId,
        operator: e.data.operator,
        iteration: e.data.iteration,
        stage: e.data.stage ?? null,
        plan: e.data.plan,
        status: 'running',
        metrics: {},
        error: null,
        exitCode: null,
        timedOut: false,
        durationMs: null,
        stdoutTail: '',
        stderrTail: '',
        analysis: null,
        liveOutput: '',
      });
      break;
    case 'exec.output': {
      const node = model.nodes.get(e.data.nodeId);
      if (node) {
        node.liveOutput = (node.liveOutput + e.data.text).slice(-LIVE_OUTPUT_CHARS);
      }
      break;
    }
    case 'node.finished': {
      const node = model.nodes.get(e.data.nodeId) ?? placeholderNode(e.data.nodeId, e.data.iteration);
      model.nodes.set(node.id, {
        ...node,
        status: e.data.buggy ? 'failed' : 'ok',
        metrics: e.data.metrics,
        error: e.data.error,
        exitCode: e.data.exitCode,
        timedOut: e.data.timedOut,
        durationMs: e.data.durationMs,
        stdoutTail: e.data.stdoutTail,
        stderrTail: e.data.stderrTail,
        analysis: e.data.analysis ?? null,
      });
      break;
    }
    case 'metric.improved':
      model.bestNodeId = e.data.nodeId;
      break;
    case 'figure.created':
      if (!model.figures.includes(e.data.path)) model.figures.push(e.data.path);
      model.figureVersions[e.data.path] = e.id;
      model.figureCaptions[e.data.path] = figureCaption(e);
      break;
    case 'figures.critiqued':
      model.figureCritique = e.data;
      break;
    case 'paper.ready':
      model.paper = e.data;
      break;
    case 'cost.updated':
      model.usage = e.data.total;
      model.budgetUsd = e.data.budgetUsd;
      break;
    case 'run.finished':
      model.finished = e.data;
      model.status = e.data.status;
      model.usage = e.data.usage;
      if (e.data.status === 'succeeded') model.stage = 'done';
      break;
  }
  return true;
}

/** Drops what a rerun from `fromStage` replaces, as the engine does (`stagesRerunFrom`). */
function forgetForRerun(model: RunModel, fromStage: RerunStage): void {
  const redo = new Set<string>(stagesRerunFrom(fromStage));
  if (redo.has('experiments')) {
    model.nodes = new Map();
    model.bestNodeId = null;
    model.insights = [];
    model.seeds = null;
    model.searchStages = [];
    model.experimentStage = null;
    model.figures = [];
    model.searchFrom = model.events.length;
    for (const stage of EXPERIMENT_STAGES) redo.add(stage);
  }
  // Node figures stay with their nodes; the figures stage's own plots are under figures/.
  if (redo.has('figures')) {
    model.figures = model.figures.filter((path) => !path.startsWith('figures/'));
    model.figureCritique = null;
  }
  if (redo.has('writeup')) model.paper = null;
  model.review = null;
  model.stagesDone = model.stagesDone.filter((stage) => !redo.has(stage));
}

function placeholderNode(id: string, iteration: number): TreeNode {
  return {
    id,
    parentId: null,
    operator: 'draft',
    iteration,
    stage: null,
    plan: '',
    status: 'running',
    metrics: {},
    error: null,
    exitCode: null,
    timedOut: false,
    durationMs: null,
    stdoutTail: '',
    stderrTail: '',
    analysis: null,
    liveOutput: '',
  };
}

/**
 * A figure's label: the plotting model's caption; for a figure an experiment saved (which has none), the
 * experiment and the file's name. Runs recorded before captions were in the event have the caption in the message
 * (`Figure: <path> — <caption>`, cut at 120 characters).
 */
export function figureCaption(e: EventOf<'figure.created'>): string {
  if (e.data.caption) return e.data.caption;
  const fromMessage = e.message.split(' — ').slice(1).join(' — ').trim();
  if (fromMessage) return fromMessage;
  const name = fileNameAsWords(e.data.path);
  return e.data.nodeId ? `${name} (experiment ${e.data.nodeId})` : name;
}

/** The plan's metric, or the first metric any node reported. */
export function metricName(model: RunModel): string | null {
  if (model.plan) return model.plan.metric.name;
  for (const node of model.nodes.values()) {
    const first = Object.keys(node.metrics)[0];
    if (first) return first;
  }
  return null;
}

/**
 * Every finished experiment of the current search, failed ones included, in the order they finished (a node finished
 * again after a resume keeps its first place and its latest result).
 */
export function nodeOutcomes(model: RunModel): NodeOutcome[] {
  const byId = new Map<string, NodeOutcome>();
  for (const event of model.events.slice(model.searchFrom)) {
    if (event.type !== 'node.finished') continue;
    const metrics = Object.fromEntries(
      Object.entries(event.data.metrics).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)),
    );
    byId.set(event.data.nodeId, {
      nodeId: event.data.nodeId,
      iteration: event.data.iteration,
      failed: event.data.buggy,
      metrics,
    });
  }
  return [...byId.values()];
}

/** Every metric any experiment recorded: the primary one first, the others in the order they first appeared. */
export function recordedMetrics(outcomes: readonly NodeOutcome[], primary: string | null): string[] {
  const names = new Set<string>(primary ? [primary] : []);
  for (const outcome of outcomes) for (const name of Object.keys(outcome.metrics)) names.add(name);
  return [...names];
}
