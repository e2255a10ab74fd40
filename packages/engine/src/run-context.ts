import type {
  AnyModelRole,
  Lesson,
  NewEvent,
  NodeOperator,
  RerunStage,
  RunError,
  RunFailureCode,
  RunModels,
  RunOptions,
  RunStage,
  StartingCodeGain,
  Template,
} from '@autolab/contracts';
import { CheckpointWriter } from './checkpoint.js';
import type { EvolveRunInput } from './evolve-run.js';
import { StageHeartbeat } from './heartbeat.js';
import { type HeldOutEvaluation, heldOutContract } from './held-out.js';
import { inputsBlock, type RunInputListings } from './inputs.js';
import type {
  Clock,
  Embeddings,
  HintInbox,
  LessonLibrary,
  LiteratureSearch,
  Llm,
  PromptImage,
  ReAsk,
  ReadFilesLimits,
  RunSink,
  SandboxFactory,
  ToolCallFailure,
  ToolCallResult,
  ToolReply,
  ToolSpec,
} from './ports.js';
import { type RunState, spentSince } from './run-state.js';
import { SandboxPool } from './sandbox-pool.js';

export interface ResearchRunInput {
  runId: string;
  goal: string;
  /** The model of each role (the worker routes each call by its role), for the manifest and the prompts. */
  models: RunModels;
  maxIterations: number;
  /** Null: a model of the run has no price, so only the token cap and the time limit bind. */
  budgetUsd: number | null;
  /** Wall-clock end of the run (epoch ms). */
  deadline: number;
  timeLimitMinutes: number;
  sandbox: { cpus: number; memoryMb: number; execTimeoutSeconds: number; image?: string };
  /** The image the experiments run in, when it is not the built-in one: its packages go into the prompts. */
  sandboxImage?: { name: string; packages: readonly string[] };
  /** What is copied out of the sandbox after each program. @defaultValue OUTPUT_LIMITS (node-runner.ts) */
  outputLimits?: ReadFilesLimits;
  policy: Pick<RunOptions, 'search' | 'ideation' | 'review' | 'seeds' | 'pageLimit'> & { maxTokens: number | null };
  /** The user's files (uploads) every experiment sandbox holds under /workspace/input/<kind>/. */
  inputs: RunInputListings;
  /**
   * The built-in template the run starts from. Its baseline is `inputs.code` (nothing here treats it specially);
   * its seed ideas go to ideation, its plot code to the figures step and its notes to the paper.
   * @defaultValue null
   */
  template?: Template | null;
  /** The run's held-out test (its metric and grader; the hidden files are only in the grading sandbox), or null. */
  evaluation?: HeldOutEvaluation | null;
  /**
   * What an earlier attempt of this run saved (a `StoredCheckpoint`, or the whole state as one document, as workers
   * before per-node storage wrote it); null for a fresh start.
   */
  checkpoint: unknown | null;
  /** Set for a rerun: which stage to start again from, and the job (so a re-delivered job does not truncate twice). */
  rerun: { fromStage: RerunStage; jobId: string } | null;
  /**
   * Lessons across runs (with `ports.lessons`): `use` puts relevant ones into prompts, in a block of at most
   * `promptTokens` tokens; `learn` distils the run's own when it ends. @defaultValue neither
   */
  lessons?: { use: boolean; learn: boolean; promptTokens: number };
  /** Set for a run in evolve mode (docs/evolve.md): the program is improved against its evaluator, no paper. */
  evolve?: EvolveRunInput | null;
}

export interface ResearchPorts {
  llm: Llm;
  sandboxes: SandboxFactory;
  sink: RunSink;
  clock: Clock;
  /** Optional: without it, ideas are not checked against the literature and the paper cites nothing. */
  literature?: LiteratureSearch;
  hints?: HintInbox;
  /** Optional: without it, the run neither reads nor adds lessons. */
  lessons?: LessonLibrary;
  /** Optional: evolve mode's novelty is measured by embedding cosine with it, by code tokens without. */
  embeddings?: Embeddings;
}

export type ResearchOutcome =
  /** `startingCode`: the gain of the best node over the user's starting code, when there is one to report. */
  | { status: 'succeeded'; startingCode: StartingCodeGain | null }
  | { status: 'failed'; error: RunError }
  /** The signal fired (cancel or worker shutdown); the checkpoint holds everything completed. */
  | { status: 'interrupted' };

/** Every step that asks a model, and the role whose model answers it. */
const ROLE_OF_PURPOSE = {
  draft: 'code',
  debug: 'code',
  improve: 'code',
  hyperparameter: 'code',
  ablation: 'code',
  judge: 'judge',
  tie_break: 'judge',
  figures: 'writeup',
  figure_critique: 'vision',
  paper: 'writeup',
  latex_fix: 'writeup',
  revise: 'writeup',
  review: 'review',
  meta_review: 'review',
  ideas: 'ideas',
  refine_ideas: 'ideas',
  lessons: 'ideas',
  mutate: 'code',
  recommend: 'ideas',
  evolve_report: 'writeup',
} as const satisfies Record<NodeOperator, AnyModelRole> & Record<string, AnyModelRole>;
export type Purpose = keyof typeof ROLE_OF_PURPOSE;

/** Share of the budget (cost and tokens) kept for figures, paper and review; experiments stop when the rest is spent. */
export const WRITEUP_BUDGET_SHARE = 0.2;
/** Time kept for figures, paper and review; experiments stop this long before the deadline. */
export const WRITEUP_TIME_MS = 3 * 60_000;
/** Model answers in a row that are not a valid tool call before the run gives up on the model. */
export const MAX_CONSECUTIVE_MALFORMED = 5;
/** Re-asks after an unusable reply, per step (each is a model call of its own, counted and priced). */
export const MAX_REASKS = 2;
/** A reply cut off at the completion limit is asked for again with at least this limit, and at most the next. */
const MIN_RAISED_REPLY_TOKENS = 4096;
const MAX_REPLY_TOKENS = 32_768;
/** Hints carried in prompts (the most recent ones). */
const MAX_HINTS_IN_PROMPT = 5;

export class RunFailure extends Error {
  constructor(
    readonly code: RunFailureCode,
    message: string,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

export class Interrupted extends Error {}

/**
 * What every stage of a run shares: the state, the ports, the model call with its accounting and budget checks,
 * hints, checkpoints and events.
 */
export class RunContext {
  /** Sends `stage.progress` whenever the run has been silent for a while; started and stopped by `runResearch`. */
  readonly heartbeat: StageHeartbeat;

  constructor(
    readonly input: ResearchRunInput,
    readonly ports: ResearchPorts,
    readonly signal: AbortSignal,
    public state: RunState,
  ) {
    this.heartbeat = new StageHeartbeat(ports.clock, (event) => this.emit(event));
  }

  /** How each model was last asked for tool calls (`tools`, `json`, `text`), for the manifest. */
  readonly modelModes: Record<string, string> = {};

  private experimentPool: SandboxPool | null = null;

  /**
   * The run's experiment (python) sandboxes, opened when first needed: the experiments use them, and the figures
   * reuse one (same image) instead of starting another container. Closed once the figures are drawn.
   */
  get experimentSandboxes(): SandboxPool {
    this.experimentPool ??= new SandboxPool(
      this.ports.sandboxes,
      this.input.policy.search.nodeConcurrency,
      this.signal,
    );
    return this.experimentPool;
  }

  /** Removes the experiment sandboxes (the stages after the figures need none). */
  async closeExperimentSandboxes(): Promise<void> {
    const pool = this.experimentPool;
    this.experimentPool = null;
    await pool?.closeAll();
  }

  /** The goal as prompts state it: the user's words, then what the user's input files hold (when there are any). */
  get goalForPrompts(): string {
    return this.input.goal + inputsBlock(this.state.inputsPreview) + heldOutContract(this.input.evaluation ?? null);
  }

  get sink(): RunSink {
    return this.ports.sink;
  }

  emit(event: NewEvent): Promise<void> {
    this.heartbeat.heard();
    return this.ports.sink.emit(event);
  }

  async enterStage(stage: RunStage, message: string): Promise<void> {
    this.heartbeat.enterStage(stage);
    await this.sink.progress({ stage });
    await this.emit({ type: 'stage.started', message, data: { stage } });
  }

  private readonly checkpoints = new CheckpointWriter();

  /** Saves the state: the small head every time, a node only when it is new or changed. */
  async checkpoint(): Promise<void> {
    const write = this.checkpoints.next(this.state);
    await this.sink.saveCheckpoint(write);
    this.checkpoints.committed(write);
  }

  throwIfInterrupted(): void {
    if (this.signal.aborted) throw new Interrupted('interrupted');
  }

  /**
   * Whether another model call fits: experiments may use the budget minus the writeup share; later stages the
   * rest. Checked before every call, so a cap is exceeded by at most the one call that crosses it.
   */
  canCallModel(phase: 'experiments' | 'writeup'): boolean {
    const spent = spentSince(this.state);
    const share = phase === 'experiments' ? 1 - WRITEUP_BUDGET_SHARE : 1;
    const budget = this.input.budgetUsd;
    if (budget !== null && spent.costUsd >= budget * share) return false;
    const maxTokens = this.input.policy.maxTokens;
    return maxTokens === null || spent.tokens < maxTokens * share;
  }

  /** Why experiments must stop now, or null. */
  experimentStopReason(): string | null {
    const spent = spentSince(this.state);
    if (this.state.nodes.length >= this.input.maxIterations)
      return `reached the limit of ${this.input.maxIterations} experiments`;
    if (!this.canCallModel('experiments')) {
      const tokens = this.input.policy.maxTokens;
      const budget = this.input.budgetUsd;
      return budget !== null && spent.costUsd >= budget * (1 - WRITEUP_BUDGET_SHARE)
        ? `spent $${spent.costUsd.toFixed(4)} of the $${budget} budget (the rest is kept for the paper)`
        : `used ${spent.tokens} of the ${tokens} tokens (the rest is kept for the paper)`;
    }
    if (this.ports.clock.now() >= this.input.deadline - this.writeupTimeMs())
      return 'the time limit is near (time is kept for the paper)';
    return null;
  }

  /** Time kept for the writeup: three minutes, or 30 % of a shorter time limit. */
  private writeupTimeMs(): number {
    return Math.min(WRITEUP_TIME_MS, 0.3 * this.input.timeLimitMinutes * 60_000);
  }

  private readonly lessonCache = new Map<string, Promise<Lesson[]>>();
  /** A `lessons_unavailable` warning has been sent in this attempt. */
  lessonsUnavailableSaid = false;

  /**
   * Lessons retrieved for a query, asked of the library once per attempt (steps of one kind with the same query, such
   * as every draft, share one lookup; the library changes only when runs end).
   */
  lessonsFound(key: string, load: () => Promise<Lesson[]>): Promise<Lesson[]> {
    let found = this.lessonCache.get(key);
    if (!found) {
      found = load();
      this.lessonCache.set(key, found);
      found.catch(() => this.lessonCache.delete(key));
    }
    return found;
  }

  /** The hints to put in the prompt of `step`; those seen for the first time are marked applied there. */
  async hints(step: string): Promise<string[]> {
    const inbox = this.ports.hints;
    if (!inbox) return [];
    const hints = (await inbox.list()).slice(-MAX_HINTS_IN_PROMPT);
    for (const hint of hints) {
      if (hint.appliedAt) continue;
      await inbox.markApplied(hint.id, step);
      await this.emit({
        type: 'hint.applied',
        message: `Hint applied in ${step}: ${hint.text.slice(0, 120)}`,
        data: { hintId: hint.id, step },
      });
    }
    return hints.map((h) => h.text);
  }

  /**
   * One model call that must end in a tool call, with its cost recorded in the state (and checkpointed at once,
   * so a resumed run never forgets what it paid for), a cost event, and an error event when the answer is unusable.
   * An unusable answer the adapter marks as worth another try is asked again (at most `MAX_REASKS` times, each a
   * model call of its own with its own cost event, within the run's budget and token cap): a reply that did not
   * validate goes back with the exact error, a reply cut off at the completion limit is asked for with a larger one.
   */
  async ask<const Tools extends readonly ToolSpec[]>(
    purpose: Purpose,
    system: string,
    prompt: string,
    tools: Tools,
    images?: PromptImage[],
    /** The experiment the call serves, for the transcript. */
    nodeId?: string,
    /** One of the run's models to ask instead of the purpose's role's (evolve mode's mutation models). */
    model?: string,
  ): Promise<ToolReply<Tools>> {
    const role = ROLE_OF_PURPOSE[purpose];
    let retry: ReAsk | undefined;
    for (let reasks = 0; ; reasks++) {
      this.throwIfInterrupted();
      const reply = await this.heartbeat.during(purpose, () =>
        this.ports.llm.callTool(
          {
            purpose,
            role,
            system,
            prompt,
            tools: [...tools],
            ...(images ? { images } : {}),
            ...(retry ? { retry } : {}),
            ...(nodeId ? { nodeId } : {}),
            ...(model ? { model } : {}),
          },
          this.signal,
        ),
      );
      if (reply.ok) this.state.consecutiveMalformed = 0;
      await this.account(purpose, reply);
      const answeredBy = reply.usage.model;
      const was = this.modelModes[answeredBy];
      if (reply.mode && reply.mode !== was) {
        if (was !== undefined) {
          await this.emit({
            type: 'warning',
            message: `The model ${answeredBy} is now asked for its tool calls in ${reply.mode} mode (it was ${was}).`,
            data: { code: 'model_mode_changed', detail: `${answeredBy}: ${was} -> ${reply.mode}` },
          });
        }
        this.modelModes[answeredBy] = reply.mode;
      }
      // The adapter parsed the arguments with the schema of the tool the reply names, one of `tools`.
      if (reply.ok) return reply as ToolReply<Tools>;
      const next = reasks < MAX_REASKS ? this.reAskFor(reply) : null;
      await this.emit({
        type: 'error',
        message: `The model's answer for "${purpose}" was unusable: ${next?.note ?? reply.error}.`,
        data: { code: 'malformed_model_reply', step: purpose, detail: `${reply.error}\n${reply.raw.slice(0, 1000)}` },
      });
      if (next) {
        retry = next.retry;
        continue;
      }
      // Counted per step, not per re-ask: a model that needs a second try is not on its way to being unusable.
      this.state.consecutiveMalformed += 1;
      await this.checkpoint();
      if (this.state.consecutiveMalformed >= MAX_CONSECUTIVE_MALFORMED) {
        throw new RunFailure(
          'model_unusable',
          `${MAX_CONSECUTIVE_MALFORMED} model answers in a row were not valid tool calls (last: ${reply.error})`,
        );
      }
      return reply;
    }
  }

  /** The re-ask for an unusable reply, or null when there is none to make (not worth it, or no budget or tokens). */
  private reAskFor(reply: ToolCallFailure): { retry: ReAsk; note: string } | null {
    if (!reply.reask || !this.canCallModel('writeup')) return null;
    if (reply.reask === 'invalid') {
      return { retry: { reply: reply.raw, error: reply.error }, note: `${reply.error}; asking again with the error` };
    }
    // Cut off: twice the length it reached, within what is left of the run's token cap.
    const wanted = Math.min(MAX_REPLY_TOKENS, Math.max(MIN_RAISED_REPLY_TOKENS, 2 * reply.usage.completionTokens));
    const cap = this.input.policy.maxTokens;
    const room = cap === null ? wanted : cap - spentSince(this.state).tokens - reply.usage.promptTokens;
    const limit = Math.min(wanted, room);
    if (limit <= reply.usage.completionTokens) return null;
    return {
      retry: { reply: reply.raw, error: reply.error, maxReplyTokens: limit },
      note: `${reply.error}; asking again with a limit of ${limit} tokens`,
    };
  }

  /** Records one model call: usage in the state (checkpointed), a progress update and a cost event. */
  private async account(purpose: string, reply: ToolCallResult): Promise<void> {
    const call = reply.usage;
    const u = this.state.usage;
    u.calls += 1;
    u.promptTokens += call.promptTokens;
    u.completionTokens += call.completionTokens;
    u.totalTokens = u.promptTokens + u.completionTokens;
    u.cachedTokens += call.cachedTokens;
    if (call.estimated) u.estimatedTokens += call.promptTokens + call.completionTokens;
    u.costUsd += call.costUsd;
    await this.checkpoint();
    await this.sink.progress({ usage: { ...u } });
    const cached = call.cachedTokens > 0 ? ` (${call.cachedTokens} cached)` : '';
    const estimated = call.estimated ? ' (estimated: the server reported no usage)' : '';
    await this.emit({
      type: 'cost.updated',
      message: `${purpose}: ${call.promptTokens}${cached}+${call.completionTokens} tokens${estimated}, $${call.costUsd.toFixed(4)} (total $${u.costUsd.toFixed(4)}${this.input.budgetUsd === null ? '' : ` of $${this.input.budgetUsd}`})`,
      data: {
        purpose,
        model: call.model,
        promptTokens: call.promptTokens,
        completionTokens: call.completionTokens,
        cachedTokens: call.cachedTokens,
        estimated: call.estimated,
        costUsd: call.costUsd,
        total: { ...u },
        budgetUsd: this.input.budgetUsd,
      },
    });
    if (!reply.usage.priced && !this.state.warnedUnpriced) {
      this.state.warnedUnpriced = true;
      await this.emit({
        type: 'warning',
        message:
          this.input.budgetUsd === null
            ? `No price is known for model "${reply.usage.model}" (price unknown): its tokens are counted, its cost shows $0, and the run has no USD budget (set AUTOLAB_MODEL_PRICES to price it).`
            : `No price is known for model "${reply.usage.model}" on this worker: its cost shows $0 and the budget cannot limit it (set AUTOLAB_MODEL_PRICES alike on the API and every worker).`,
        data: { code: 'model_unpriced', detail: reply.usage.model },
      });
    }
  }
}
