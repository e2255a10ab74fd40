import type {
  AnyModelRole,
  BestMetric,
  ExperimentStage,
  HeldOutScore,
  Lesson,
  LessonKind,
  NewEvent,
  ReviewSummary,
  RunStage,
  Usage,
} from '@autolab/contracts';
import type { LearnedLesson, SearchCounts } from '@autolab/lessons';
import type { z } from 'zod';
import type { CheckpointWrite } from './checkpoint.js';

/**
 * The engine's view of the world. Adapters (packages/llm, packages/sandbox, packages/store) implement these;
 * the engine itself does no I/O.
 */

// ---------------------------------------------------------------- model

/** A tool the model may call: `T` is what its arguments parse to, `N` its name (a literal for the engine's tools). */
export interface ToolSpec<T = unknown, N extends string = string> {
  name: N;
  description: string;
  schema: z.ZodType<T>;
}

/**
 * A tool with its name kept as a literal type, so that a reply to it can be told apart by `reply.tool`
 * (see `ToolReply`).
 */
export function defineTool<T, const N extends string>(spec: ToolSpec<T, N>): ToolSpec<T, N> {
  return spec;
}

export interface ToolCallRequest {
  /** What the call is for (`plan`, `draft`, `paper`, …); shown in cost events and the transcript. */
  purpose: string;
  /** Which of the run's models answers (`code`, `judge`, `writeup`, `review`, `ideas`, `vision`). */
  role: AnyModelRole;
  /** A model of the run's to ask instead of the role's (evolve mode's mutation models, chosen per generation). */
  model?: string;
  system: string;
  prompt: string;
  /** The model must answer with exactly one call of one of these tools. */
  tools: ToolSpec[];
  /** Images the model sees after the prompt (the vision role's figures), in this order. */
  images?: PromptImage[];
  /** Set when the model is asked again after an unusable reply (see `ToolCallResult.reask`). */
  retry?: ReAsk;
  /** The experiment the call serves (the node it writes, or the node it judges): the transcript files it there. */
  nodeId?: string;
}

export interface PromptImage {
  /** How the prompt refers to it (a figure's file name). */
  name: string;
  mediaType: 'image/png' | 'image/jpeg';
  data: Buffer;
}

/** A second chance after an unusable reply: the model sees its reply and the exact reason, and answers again. */
export interface ReAsk {
  /** The unusable reply as the model wrote it. */
  reply: string;
  error: string;
  /** A larger completion limit, after a reply that was cut off at the old one. */
  maxReplyTokens?: number;
}

export interface CallUsage {
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens the provider served from its prefix cache (part of `promptTokens`). */
  cachedTokens: number;
  /** The server reported no usage: the tokens were counted with a tokenizer. */
  estimated: boolean;
  costUsd: number;
  /** False when no price is known for the model: the cost is then 0 and cannot count against the budget. */
  priced: boolean;
}

export type ToolCallResult = ToolCallSuccess<unknown> | ToolCallFailure;

export interface ToolCallSuccess<T, N extends string = string> {
  ok: true;
  tool: N;
  /** The tool's arguments, parsed by its schema. */
  value: T;
  usage: CallUsage;
  mode?: string;
}

/** The model answered, but not with a valid tool call: a failed step, not a crash. */
export interface ToolCallFailure {
  ok: false;
  error: string;
  raw: string;
  usage: CallUsage;
  /** How the call was asked (`tools`, `json`, `text`), for the manifest; absent for adapters without modes. */
  mode?: string;
  /**
   * Whether asking again may help: `invalid` (the reply was parsed but did not validate; the model is shown the
   * error), `truncated` (cut off at the completion limit; asked again with a larger one). Absent: do not re-ask.
   */
  reask?: 'invalid' | 'truncated';
}

/**
 * The reply to a call offered `Tools`: on success, one member per tool, told apart by `tool` and typed by that tool's
 * schema (`reply.tool === TOOLS.finish.name` narrows `reply.value` to the finish tool's arguments).
 */
export type ToolReply<Tools extends readonly ToolSpec[]> = ToolSuccessOf<Tools[number]> | ToolCallFailure;
type ToolSuccessOf<S> = S extends ToolSpec<infer T, infer N> ? ToolCallSuccess<T, N> : never;

export interface Llm {
  /**
   * One model call that must end in a tool call. Transport failures are retried inside;
   * when they persist it throws an `LlmUnavailableError`.
   */
  callTool(request: ToolCallRequest, signal: AbortSignal): Promise<ToolCallResult>;
}

export class LlmUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

// ---------------------------------------------------------------- sandbox

export interface CappedText {
  /** Head and tail of the output, joined by a marker line that says how much was dropped. */
  text: string;
  totalBytes: number;
  droppedBytes: number;
}

export interface ExecResult {
  exitCode: number | null;
  timedOut: boolean;
  /** Killed by the kernel for exceeding the memory limit (exit 137 without a timeout). */
  outOfMemory: boolean;
  durationMs: number;
  stdout: CappedText;
  stderr: CappedText;
  /** Memory in use when the program was stopped at its time limit (or cancelled), and the limit; else null. */
  memoryAtStop?: { usedMb: number; limitMb: number } | null;
  /**
   * Why the container itself ended while the program ran (gVisor's whole sandbox is ended by the memory limit or a
   * fork bomb; someone removed the container), else null. The next use of the sandbox starts a fresh container.
   */
  sandboxLost?: string | null;
}

export interface ExecOptions {
  timeoutMs: number;
  /** Extra environment for the process (engine-controlled values such as SEED; never secrets). */
  env?: Record<string, string>;
  signal?: AbortSignal;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
}

export interface SandboxFile {
  path: string;
  content: Buffer;
}

/** What is copied out of a sandbox after a program: at most this many files and bytes. */
export interface ReadFilesLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
}

/** A file left in the sandbox instead of being copied out, and why. */
export interface SkippedFile {
  path: string;
  bytes: number;
  reason: 'not_a_regular_file' | 'unusable_name' | 'file_too_large' | 'total_too_large' | 'too_many_files';
}

/**
 * A sandbox step failed because of what a program did or left behind (its files cannot be copied in or out, its
 * processes cannot be stopped, it ended the container): the step fails that node or attempt, never the run. Errors
 * that mean the sandbox service itself is unavailable (Docker unreachable) are not of this type.
 */
export class SandboxStepError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** One program run from a clean workspace (`Sandbox.runProgram`). */
export interface ProgramRun {
  /** Written into the emptied /workspace before the program starts. */
  files: SandboxFile[];
  command: string[];
  exec: ExecOptions;
  /** What is copied out of /workspace once the program has ended. */
  outputs: ReadFilesLimits;
}

export interface ProgramOutcome {
  exec: ExecResult;
  /** The files the program left within `outputs` (none when `outputError` is set). */
  files: SandboxFile[];
  skipped: SkippedFile[];
  /** Why the files could not be copied out after the program ran; null when they were. */
  outputError: string | null;
}

/** One isolated workspace (a container) with `/workspace` as its only writable directory besides `/tmp`. */
export interface Sandbox {
  /**
   * `reset`, `writeFiles`, `exec` and `readFiles` as one step: what an experiment needs, in as few round trips to the
   * sandbox as the adapter can manage. Throws `SandboxStepError` when the files cannot be written (the program did
   * not run); a failure to copy files out comes back as `outputError`, with the program's result.
   */
  runProgram(run: ProgramRun): Promise<ProgramOutcome>;
  /** Ends every process of the sandbox and removes everything under /workspace. */
  reset(): Promise<void>;
  /** Throws `SandboxStepError` when the files cannot be written. */
  writeFiles(files: SandboxFile[]): Promise<void>;
  /** Runs a command; when it returns, every process the command started has been ended. */
  exec(command: string[], options: ExecOptions): Promise<ExecResult>;
  /**
   * Regular files under /workspace within the limits; the rest stays in the sandbox and is listed in `skipped` (links
   * and devices are skipped, never followed). Throws `SandboxStepError` when the files cannot be read.
   */
  readFiles(limits: ReadFilesLimits): Promise<{ files: SandboxFile[]; skipped: SkippedFile[] }>;
  /** Content-addressed id of the image the sandbox runs. */
  readonly imageId: string;
  close(): Promise<void>;
}

/**
 * The sandboxes' engine (Docker) stayed unreachable for longer than the adapter waits for it. Not the experiment's
 * fault, and nothing the run can do about it: the run fails with `docker_unavailable`. (Shorter outages are the
 * adapter's business: it waits, and runs again a command whose outcome the outage made unknown.)
 */
export class SandboxUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * `python`: experiments (with the user's data and code); `latex`: the paper; `grader`: grades predictions against
 * a held-out test, the only sandbox that holds the hidden files (and never runs experiment code); `reader`: the
 * engine's own scripts over the user's inputs (the data preview, reading the papers), in the built-in image whatever
 * image the run's experiments use (the scripts need its pandas and poppler), with the inputs mounted as for
 * experiments.
 */
export type SandboxKind = 'python' | 'latex' | 'grader' | 'reader';

export interface SandboxFactory {
  open(kind: SandboxKind, signal?: AbortSignal): Promise<Sandbox>;
}

// ---------------------------------------------------------------- run state

export interface RunProgress {
  stage?: RunStage;
  experimentStage?: ExperimentStage | null;
  review?: ReviewSummary | null;
  iteration?: number;
  bestMetric?: BestMetric | null;
  heldOut?: HeldOutScore | null;
  usage?: Usage;
}

/** Where the engine records what happens: the event log, the run record, checkpoints and files. */
export interface RunSink {
  emit(event: NewEvent): Promise<void>;
  progress(progress: RunProgress): Promise<void>;
  /** Stores one checkpoint write atomically (the head and its nodes together, or nothing). */
  saveCheckpoint(checkpoint: CheckpointWrite): Promise<void>;
  /** Throws `ArtifactsUnavailableError` when the files cannot be stored (after the adapter waited for its store). */
  saveArtifact(path: string, content: Buffer | string): Promise<void>;
  /** A file saved earlier in this run (also by an earlier attempt), or null. */
  loadArtifact(path: string): Promise<Buffer | null>;
}

/**
 * The run's files cannot be stored or read: the artifact store (S3) stayed unreachable for longer than the adapter
 * waits for it. The run fails with `artifact_store_unavailable`; what was stored before stays stored.
 */
export class ArtifactsUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

export interface Clock {
  now(): number;
}

// ---------------------------------------------------------------- literature

export interface LiteraturePaper {
  /** Stable id at the source (Semantic Scholar paperId or OpenAlex work id). */
  id: string;
  title: string;
  authors: string[];
  year: number | null;
  venue: string | null;
  abstract: string | null;
  url: string | null;
  doi: string | null;
  citationCount: number | null;
}

export interface LiteratureResult {
  /** Which service answered, e.g. `semantic_scholar` or `openalex`. */
  source: string;
  papers: LiteraturePaper[];
}

/** Searches published work. Implementations retry politely on rate limits and fall back between services. */
export interface LiteratureSearch {
  /** @throws LiteratureUnavailableError when no service can answer. */
  search(query: string, limit: number, signal: AbortSignal): Promise<LiteratureResult>;
}

export class LiteratureUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

// ---------------------------------------------------------------- hints

export interface HintView {
  id: string;
  text: string;
  appliedAt: string | null;
}

/** Guidance a person sends to a running run; the engine folds it into its next prompt. */
export interface HintInbox {
  list(): Promise<HintView[]>;
  /** Records that the hint reached the model, in the prompt of `step` (e.g. `n004 improve`). */
  markApplied(hintId: string, step: string): Promise<void>;
}

// ---------------------------------------------------------------- embeddings

/** An embeddings model (AUTOLAB_EMBEDDINGS_MODEL): evolve mode measures novelty with it when there is one. */
export interface Embeddings {
  readonly model: string;
  /** One vector per text, in order. Throws when the endpoint cannot be reached. */
  embed(texts: string[]): Promise<number[][]>;
}

// ---------------------------------------------------------------- lessons

/** The run's tenant's lessons (docs/lessons.md): read into prompts, and added to when the run ends. */
export interface LessonLibrary {
  /** How `find` ranks: full-text search alone, or fused with an embeddings model's similarities. */
  readonly retrieval: 'fulltext' | 'hybrid';
  /** The relevant lessons the tenant may read (its own and those shared with it), best first; retracted ones never. */
  find(query: { text: string; kinds?: readonly LessonKind[]; limit: number }): Promise<Lesson[]>;
  /** Merges the run's distilled lessons into the tenant's own library; returns the lessons that changed or are new. */
  learn(lessons: LearnedLesson[]): Promise<Lesson[]>;
  /** Adds the ended run's search counts to its tenant's statistics (once per run, however often it is called). */
  recordSearch(counts: SearchCounts): Promise<void>;
}
