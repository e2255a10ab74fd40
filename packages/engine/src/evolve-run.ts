import {
  EVOLVE_ARTIFACTS,
  type EvolveDatabaseFile,
  type EvolvePolicy,
  INPUT_MOUNT,
  type PatchType,
} from '@autolab/contracts';
import {
  applyDiff,
  applyRewrite,
  type BanditChoice,
  choose,
  choosePatchType,
  EvolveBlockError,
  evolveText,
  mostSimilar,
  ProgramDatabase,
  parseProgram,
  programDiff,
  record,
  SeededRng,
} from '@autolab/evolve';
import { type Evaluation, evaluateCandidate } from './evolve-evaluate.js';
import { MUTATE_SYSTEM, mutatePrompt, RECOMMEND_SYSTEM, recommendPrompt, type ShownProgram } from './evolve-prompts.js';
import { type ChildSlot, candidateIdFor, type EvolveCandidate, type EvolveState } from './evolve-state.js';
import { formatNumber } from './journal.js';
import { lessonsBlock } from './lessons.js';
import { SandboxStepError } from './ports.js';
import { type RunContext, RunFailure } from './run-context.js';
import { oneLine } from './text.js';
import { TOOLS } from './tools.js';

/** What a run in evolve mode is given besides the research run's input (docs/evolve.md). */
export interface EvolveRunInput {
  policy: EvolvePolicy;
  /** The evolved file's path inside inputs.code. */
  fileName: string;
  /** The evaluator's entry point inside inputs.evaluator. */
  evaluatorEntry: string;
  /** The mutation models (the bandit chooses among them per generation); at least one. */
  models: string[];
}

/** The key a child's own vector is kept under while it is compared. */
const CHILD = '~child';
/** A program over this size is refused: the prompts carry it whole. */
export const MAX_PROGRAM_BYTES = 1024 * 1024;
/** Times one child may be rejected as too similar before its slot is given up for the generation. */
export const MAX_REJECTIONS_PER_CHILD = 3;
/** Candidates of the recent generations the meta step reads. */
const RECENT_FOR_RECOMMENDATIONS = 24;
/** Earlier children of a parent shown when it is mutated again. */
const SIBLINGS_SHOWN = 4;
/** Other good programs shown beside the parent. */
const INSPIRATIONS_SHOWN = 3;
/** `score` is maximised: an evaluator that measures a cost reports its negative. */
const DIRECTION = 'maximize' as const;

/**
 * The evolutionary loop over the user's program: the initial program is evaluated as it is (it must pass its
 * evaluator), then each generation draws a model (a bandit over the mutation models), a parent per child from its
 * island (by score rank and by how many children the parent already has) and a patch type, asks the model for the
 * child, rejects a child too like an existing program before it runs, and scores the rest with the evaluator in
 * sandboxes, `nodeConcurrency` at once. Islands exchange their best every `migrationInterval` generations; every
 * `metaInterval` generations the model turns the recent results into recommendations for later prompts. Everything
 * is checkpointed as it happens, so a resumed run re-evaluates nothing that finished and asks no model twice for a
 * child it already wrote.
 */
export class Evolution {
  private readonly spec: EvolveRunInput;
  private db: ProgramDatabase<EvolveCandidate>;
  private rng: SeededRng;
  /** Program texts by candidate id (loaded from the artifacts when a resumed run needs them). */
  private readonly texts = new Map<string, string>();
  /** Embeddings of the programs' evolve blocks by candidate id (with an embeddings model; recomputed on resume). */
  private readonly vectors = new Map<string, number[]>();
  /** The embeddings endpoint failed once: novelty is measured by tokens for the rest of the attempt. */
  private embeddingsFailed = false;
  /** The tail of the chain that runs `exclusive` work one piece at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly ctx: RunContext,
    private readonly ev: EvolveState,
  ) {
    this.spec = ctx.input.evolve!;
    this.db = ProgramDatabase.fromJSON<EvolveCandidate>(ev.database);
    this.rng = SeededRng.fromJSON(ev.rng);
  }

  /** The run's evolution, started (the initial program read) or resumed from the checkpoint. */
  static async open(ctx: RunContext): Promise<Evolution> {
    if (!ctx.state.evolve) {
      const spec = ctx.input.evolve!;
      const text = await readInitialProgram(ctx, spec.fileName);
      ctx.state.evolve = {
        fileName: spec.fileName,
        nextId: 0,
        database: ProgramDatabase.create<EvolveCandidate>({
          islands: spec.policy.islands,
          direction: DIRECTION,
        }).toJSON(),
        rng: SeededRng.fromSeed(seedOf(ctx.input.runId)).toJSON(),
        bandit: {},
        generation: 0,
        current: null,
        allocations: [],
        rejections: 0,
        recommendations: [],
        stopReason: null,
        reportDone: false,
      };
      await ctx.sink.saveArtifact(EVOLVE_ARTIFACTS.program(candidateIdFor(0), spec.fileName), text);
      await ctx.checkpoint();
    }
    return new Evolution(ctx, ctx.state.evolve);
  }

  get database(): ProgramDatabase<EvolveCandidate> {
    return this.db;
  }

  get state(): EvolveState {
    return this.ev;
  }

  async run(): Promise<void> {
    const { ctx, ev } = this;
    if (this.db.size === 0) await this.evaluateInitial();
    while (!ev.stopReason) {
      const why = this.stopReason();
      if (why) {
        ev.stopReason = why;
        await this.save();
        await ctx.emit({
          type: 'stage.finished',
          message: `Evolution stopped: ${why}`,
          data: { stage: 'experiments', reason: why },
        });
        break;
      }
      await this.runGeneration(ev.generation + 1);
    }
  }

  /** Why no further generation starts, or null. */
  private stopReason(): string | null {
    const { generations } = this.spec.policy;
    if (this.ev.generation >= generations) return `ran all ${generations} generations`;
    const limit = this.ctx.experimentStopReason();
    // The research run's experiment count does not apply: an evolve run counts generations.
    return limit && !limit.startsWith('reached the limit') ? limit : null;
  }

  // ------------------------------------------------------------ the initial program

  private async evaluateInitial(): Promise<void> {
    const { ctx, ev, spec } = this;
    const id = candidateIdFor(0);
    const text = await this.programOf(id);
    ev.nextId = Math.max(ev.nextId, 1);
    await ctx.emit({
      type: 'candidate.created',
      message: `${id}: the program as uploaded (${spec.fileName})`,
      data: {
        candidateId: id,
        generation: 0,
        island: 0,
        parentIds: [],
        origin: 'initial',
        model: null,
        summary: 'the program as uploaded',
      },
    });
    const evaluation = await this.evaluate(text);
    const candidate = this.candidateFrom(id, 0, 0, [], 'initial', null, 'the program as uploaded', evaluation);
    if (candidate.status !== 'evaluated') {
      await this.announce(candidate, false);
      throw new RunFailure(
        'initial_program_failed',
        `the program as uploaded did not pass its evaluator (${candidate.status}): ${candidate.error}`,
      );
    }
    this.db.seed(candidate);
    await this.save();
    await this.announce(candidate, false);
    await this.finishGeneration(0);
  }

  // ------------------------------------------------------------ generations

  private async runGeneration(generation: number): Promise<void> {
    const { ctx, ev, spec } = this;
    if (ev.current?.generation !== generation) {
      const choice = this.chooseModel();
      ev.allocations.push({ generation, model: choice.model, reason: choice.reason });
      ev.current = { generation, model: choice.model, slots: this.planChildren() };
      await this.save();
      await ctx.emit({
        type: 'models.allocated',
        message: `Generation ${generation} goes to ${choice.model}: ${choice.reason}`,
        data: {
          generation,
          model: choice.model,
          reason: choice.reason,
          stats: spec.models.map((model) => {
            const stats = ev.bandit[model];
            return {
              model,
              pulls: stats?.pulls ?? 0,
              improvements: stats?.improvements ?? 0,
              costUsd: stats?.costUsd ?? 0,
              score: choice.scores[model] ?? null,
            };
          }),
        },
      });
    }
    const current = ev.current!;
    const open = current.slots.filter((slot) => !slot.done);
    await forEachAtOnce(open, ctx.input.policy.search.nodeConcurrency, (slot) =>
      this.runChild(slot, generation, current.model),
    );
    ctx.throwIfInterrupted();
    const moves = this.db.migrate(generation, spec.policy.migrationInterval);
    ev.current = null;
    ev.generation = generation;
    await this.save();
    if (moves.length > 0) {
      await ctx.emit({
        type: 'islands.migrated',
        message: `Migration: ${moves.map((m) => `${m.candidateId} from island ${m.from} to ${m.to}`).join(', ')}`,
        data: { generation, moves: moves.map(({ from, to, candidateId }) => ({ from, to, candidateId })) },
      });
    }
    await this.finishGeneration(generation);
    const every = spec.policy.metaInterval;
    if (every > 0 && generation % every === 0 && generation < spec.policy.generations) await this.recommend(generation);
  }

  private chooseModel(): BanditChoice {
    const models = this.spec.models;
    if (models.length === 1) return { model: models[0]!, reason: 'the only mutation model', scores: {} };
    return choose(this.ev.bandit, models);
  }

  /** Each child's island, parent(s) and patch type, drawn now so a resumed generation writes the same children. */
  private planChildren(): ChildSlot[] {
    const { policy } = this.spec;
    const slots: ChildSlot[] = [];
    for (let k = 0; k < policy.population; k++) {
      const island = k % policy.islands;
      const parent = this.db.sampleParent(island, this.rng) ?? this.db.best()!;
      const mate = this.db.sampleMate(island, parent.id, this.rng);
      const patchType = choosePatchType(policy.patchTypes, this.rng, mate !== null);
      this.db.recordChild(parent.id);
      const parentIds = patchType === 'crossover' && mate ? [parent.id, mate.id] : [parent.id];
      slots.push({ island, parentIds, origin: patchType, candidateId: null, summary: null, rejected: 0, done: false });
    }
    return slots;
  }

  /** One child: written by the model (again while it is too like an existing program), then evaluated. */
  private async runChild(slot: ChildSlot, generation: number, model: string): Promise<void> {
    const { ctx } = this;
    let costUsd = 0;
    while (!slot.candidateId) {
      if (!ctx.canCallModel('experiments')) {
        slot.done = true;
        await this.save();
        return;
      }
      const written = await this.writeChild(slot, generation, model);
      costUsd += written.costUsd;
      if (written.kind === 'unusable') {
        this.ev.bandit = record(this.ev.bandit, model, false, costUsd);
        slot.done = true;
        await this.save();
        return;
      }
      if (written.kind === 'patch_failed') {
        const id = this.newId();
        const candidate = this.childFrom(id, slot, generation, model, written.summary, null);
        candidate.status = 'failed';
        candidate.error = `${PATCH_FAILED}: ${written.error}`;
        await this.finishChild(slot, candidate, costUsd);
        return;
      }
      // Checked and claimed one child at a time: two twins written in parallel must not both pass as new.
      const verdict = await this.exclusive(async () => {
        const existing = await this.existingPrograms();
        const text = evolveText(written.program);
        const vectors = await this.vectorsFor([...existing, { id: CHILD, text }]);
        const vector = vectors?.get(CHILD) ?? null;
        vectors?.delete(CHILD);
        const withVectors = existing.map((e) => ({ ...e, vector: vectors?.get(e.id) ?? null }));
        const nearest = mostSimilar(text, withVectors, vector);
        const threshold = this.spec.policy.noveltyThreshold;
        if (nearest && nearest.similarity >= threshold) {
          await this.reject(slot, generation, model, written.summary, nearest, threshold);
          return 'rejected' as const;
        }
        const id = this.newId();
        this.texts.set(id, written.program);
        if (vector) this.vectors.set(id, vector);
        // The program is stored before the slot names it: any checkpoint (another child's too) that says this child
        // was written lets a resumed run evaluate this very program, without a model call.
        await ctx.sink.saveArtifact(EVOLVE_ARTIFACTS.program(id, this.ev.fileName), written.program);
        slot.candidateId = id;
        slot.summary = written.summary;
        return 'novel' as const;
      });
      if (verdict === 'rejected') {
        if (slot.rejected >= MAX_REJECTIONS_PER_CHILD) {
          this.ev.bandit = record(this.ev.bandit, model, false, costUsd);
          slot.done = true;
          await this.save();
          return;
        }
        continue;
      }
      const id = slot.candidateId!;
      await this.save();
      await ctx.emit({
        type: 'candidate.created',
        message: `${id} (${slot.origin} of ${slot.parentIds.join(' + ')}, island ${slot.island}) by ${model}: ${oneLine(written.summary, 140)}`,
        data: {
          candidateId: id,
          generation,
          island: slot.island,
          parentIds: slot.parentIds,
          origin: slot.origin,
          model,
          summary: written.summary,
        },
      });
    }
    const id = slot.candidateId;
    const evaluation = await this.evaluate(await this.programOf(id));
    const candidate = this.childFrom(id, slot, generation, model, slot.summary ?? '', evaluation);
    await this.finishChild(slot, candidate, costUsd);
  }

  /** Asks the chosen model for the slot's child and applies its patch to the parent. */
  private async writeChild(
    slot: ChildSlot,
    generation: number,
    model: string,
  ): Promise<
    | { kind: 'program'; program: string; summary: string; costUsd: number }
    | { kind: 'patch_failed'; error: string; summary: string; costUsd: number }
    | { kind: 'unusable'; costUsd: number }
  > {
    const { ctx, ev } = this;
    const [parentId, mateId] = slot.parentIds as [string, string | undefined];
    const parent = await this.shown(parentId);
    const mate = mateId ? await this.shown(mateId) : null;
    const blockCount = parseProgram(parent.text).segments.filter((s) => s.kind === 'evolve').length;
    const inspirations = this.db
      .elites()
      .filter((c) => !slot.parentIds.includes(c.id))
      .slice(0, INSPIRATIONS_SHOWN);
    const siblings = this.db
      .candidates()
      .filter((c) => c.parentIds[0] === parentId)
      .slice(-SIBLINGS_SHOWN);
    const prompt = mutatePrompt({
      goal: ctx.input.goal,
      fileName: ev.fileName,
      patchType: slot.origin as PatchType,
      parent,
      mate,
      inspirations,
      siblings,
      rejectedTries: slot.rejected,
      blockCount,
      recommendations: ev.recommendations,
      hints: await ctx.hints(`generation ${generation}`),
      // Lessons of the tenant's earlier runs, found by what the program is for and what this parent does.
      lessons: await lessonsBlock(
        ctx,
        'mutate',
        `generation ${generation}`,
        `${ctx.input.goal}\n${parent.candidate.summary}\n${evolveText(parent.text).slice(0, 2000)}`,
      ),
    });
    const tools = slot.origin === 'diff' ? [TOOLS.evolveDiff] : [TOOLS.evolveRewrite];
    const reply = await ctx.ask('mutate', MUTATE_SYSTEM, prompt, tools, undefined, undefined, model);
    const costUsd = reply.usage.costUsd;
    if (!reply.ok) return { kind: 'unusable', costUsd };
    const { summary } = reply.value;
    const patched =
      reply.tool === TOOLS.evolveDiff.name
        ? applyDiff(parent.text, (reply.value as { edits: { search: string; replace: string }[] }).edits)
        : applyRewrite(parent.text, (reply.value as { blocks: string[] }).blocks);
    if (!patched.ok) return { kind: 'patch_failed', error: patched.error, summary, costUsd };
    return { kind: 'program', program: patched.program, summary, costUsd };
  }

  private async reject(
    slot: ChildSlot,
    generation: number,
    model: string,
    summary: string,
    nearest: { id: string; similarity: number; measure: 'embedding' | 'tokens' },
    threshold: number,
  ): Promise<void> {
    const id = this.newId();
    const candidate = this.childFrom(id, slot, generation, model, summary, null);
    candidate.status = 'rejected';
    candidate.similarTo = nearest.id;
    candidate.similarity = nearest.similarity;
    this.db.add(candidate);
    slot.rejected += 1;
    this.ev.rejections += 1;
    await this.save();
    await this.ctx.emit({
      type: 'candidate.rejected',
      message: `A child of ${slot.parentIds[0]} by ${model} is ${formatNumber(nearest.similarity)} similar to ${nearest.id} (${nearest.measure}): rejected, asking again`,
      data: {
        candidateId: id,
        generation,
        island: slot.island,
        parentIds: slot.parentIds,
        origin: slot.origin,
        model,
        similarTo: nearest.id,
        similarity: nearest.similarity,
        measure: nearest.measure,
        threshold,
        rejections: this.ev.rejections,
      },
    });
  }

  /** A finished child into the database, the bandit and the artifacts; then it is announced. */
  private async finishChild(slot: ChildSlot, candidate: EvolveCandidate, costUsd: number): Promise<void> {
    const previousBest = this.db.best();
    this.db.add(candidate);
    const improved = this.db.improvesOnParent(candidate);
    if (candidate.model) this.ev.bandit = record(this.ev.bandit, candidate.model, improved, costUsd);
    slot.candidateId = candidate.id;
    slot.done = true;
    await this.saveCandidateFiles(candidate);
    await this.save();
    await this.announce(candidate, improved, previousBest);
  }

  private async saveCandidateFiles(candidate: EvolveCandidate): Promise<void> {
    const dir = EVOLVE_ARTIFACTS.candidateDir(candidate.id);
    await this.ctx.sink.saveArtifact(`${dir}/candidate.json`, JSON.stringify(candidateRecord(candidate), null, 2));
    const parentId = candidate.parentIds[0];
    if (!parentId || !hasProgram(candidate)) return;
    const name = this.ev.fileName;
    const diff = programDiff(
      await this.programOf(parentId),
      await this.programOf(candidate.id),
      `${parentId}/${name}`,
      `${candidate.id}/${name}`,
    );
    await this.ctx.sink.saveArtifact(EVOLVE_ARTIFACTS.patch(candidate.id), diff);
  }

  private async announce(
    candidate: EvolveCandidate,
    improved: boolean,
    previousBest: EvolveCandidate | null = null,
  ): Promise<void> {
    const { ctx } = this;
    const { id, status, score, error } = candidate;
    await ctx.emit({
      type: 'candidate.evaluated',
      message:
        status === 'evaluated'
          ? `${id} scored ${formatNumber(score!)}${improved ? ` (better than ${candidate.parentIds[0]})` : ''}`
          : `${id} ${status}: ${error}`,
      data: {
        candidateId: id,
        generation: candidate.generation,
        island: candidate.island,
        status: status === 'rejected' ? 'failed' : status,
        score,
        metrics: candidate.metrics,
        error,
        durationMs: candidate.durationMs,
        improved,
      },
    });
    const best = this.db.best();
    if (best?.id === id && status === 'evaluated') {
      await ctx.emit({
        type: 'metric.improved',
        message: `New best score: ${formatNumber(score!)} (${id})${previousBest ? `, was ${formatNumber(previousBest.score!)} (${previousBest.id})` : ''}`,
        data: {
          nodeId: id,
          iteration: candidate.generation,
          name: 'score',
          value: score!,
          previous: previousBest?.score ?? null,
          direction: DIRECTION,
        },
      });
    }
    await ctx.sink.progress({
      iteration: this.db.candidates().filter((c) => c.status !== 'rejected').length,
      bestMetric: best
        ? { name: 'score', value: best.score!, direction: DIRECTION, nodeId: best.id, iteration: best.generation }
        : null,
    });
  }

  private async finishGeneration(generation: number): Promise<void> {
    const { ctx } = this;
    const born = this.db.candidates().filter((c) => c.generation === generation);
    const count = (status: EvolveCandidate['status']) => born.filter((c) => c.status === status).length;
    const best = this.db.best();
    await ctx.emit({
      type: 'generation.finished',
      message: `Generation ${generation}: best ${best ? `${formatNumber(best.score!)} (${best.id})` : 'none yet'}`,
      data: {
        generation,
        bestCandidateId: best?.id ?? null,
        bestScore: best?.score ?? null,
        evaluated: count('evaluated'),
        incorrect: count('incorrect'),
        failed: count('failed'),
        rejected: count('rejected'),
      },
    });
    await ctx.sink.saveArtifact(EVOLVE_ARTIFACTS.database, JSON.stringify(this.databaseFile(), null, 2));
  }

  // ------------------------------------------------------------ meta-recommendations

  /** The within-run memory: recommendations from the recent results, each citing candidates that show it. */
  private async recommend(generation: number): Promise<void> {
    const { ctx, ev } = this;
    if (!ctx.canCallModel('experiments')) return;
    const recent = this.db
      .candidates()
      .filter((c) => c.status !== 'rejected' && c.generation > 0)
      .slice(-RECENT_FOR_RECOMMENDATIONS);
    if (recent.length === 0) return;
    const prompt = recommendPrompt({ goal: ctx.input.goal, generation, recent, previous: ev.recommendations });
    const reply = await ctx.ask('recommend', RECOMMEND_SYSTEM, prompt, [TOOLS.recommend]);
    if (!reply.ok) return;
    const known = new Set(recent.map((c) => c.id));
    // A recommendation must cite what it learned from: ids that are not candidates of the recent generations go.
    ev.recommendations = reply.value.recommendations
      .map((r) => ({
        text: oneLine(r.text, 300),
        candidateIds: [...new Set(r.candidate_ids)].filter((id) => known.has(id)),
      }))
      .filter((r) => r.candidateIds.length > 0);
    await this.save();
    await ctx.emit({
      type: 'recommendations.updated',
      message: `${ev.recommendations.length} recommendation(s) for the next mutations`,
      data: { generation, recommendations: ev.recommendations },
    });
  }

  // ------------------------------------------------------------ helpers

  private async evaluate(text: string): Promise<Evaluation> {
    const pool = this.ctx.experimentSandboxes;
    const sandbox = await pool.acquire();
    try {
      return await evaluateCandidate(this.ctx, sandbox, { fileName: this.ev.fileName, text }, this.spec.evaluatorEntry);
    } finally {
      pool.release(sandbox);
    }
  }

  /** A child of `slot` as the database records it. */
  private childFrom(
    id: string,
    slot: ChildSlot,
    generation: number,
    model: string,
    summary: string,
    evaluation: Evaluation | null,
  ): EvolveCandidate {
    return this.candidateFrom(id, generation, slot.island, slot.parentIds, slot.origin, model, summary, evaluation);
  }

  private candidateFrom(
    id: string,
    generation: number,
    island: number,
    parentIds: string[],
    origin: EvolveCandidate['patchType'],
    model: string | null,
    summary: string,
    evaluation: Evaluation | null,
  ): EvolveCandidate {
    return {
      id,
      generation,
      island,
      parentIds,
      patchType: origin,
      model,
      status: evaluation?.status ?? 'failed',
      score: evaluation?.score ?? null,
      metrics: evaluation?.metrics ?? {},
      error: evaluation?.error ?? null,
      children: 0,
      summary,
      durationMs: evaluation?.durationMs ?? 0,
      similarTo: null,
      similarity: null,
    };
  }

  private newId(): string {
    const id = candidateIdFor(this.ev.nextId);
    this.ev.nextId += 1;
    return id;
  }

  /**
   * The vectors of `items` by id, embedding those not known yet; null without an embeddings model or once it has
   * failed (novelty is then measured by code tokens, and a warning says so once).
   */
  private async vectorsFor(items: { id: string; text: string }[]): Promise<Map<string, number[]> | null> {
    const port = this.ctx.ports.embeddings;
    if (!port || this.embeddingsFailed) return null;
    const missing = items.filter((item) => !this.vectors.has(item.id));
    if (missing.length === 0) return this.vectors;
    try {
      const got = await port.embed(missing.map((item) => item.text));
      for (const [k, item] of missing.entries()) this.vectors.set(item.id, got[k]!);
      return this.vectors;
    } catch (err) {
      this.ctx.throwIfInterrupted();
      this.embeddingsFailed = true;
      const detail = err instanceof Error ? err.message : String(err);
      await this.ctx.emit({
        type: 'warning',
        message: `The embeddings model ${port.model} could not be reached: novelty is measured by code tokens for now.`,
        data: { code: 'embeddings_unavailable', detail: detail.slice(0, 500) },
      });
      return null;
    }
  }

  /** Runs `work` after every earlier `exclusive` work has settled. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Every program a child is compared with for novelty: those in the database (but rejected ones) and those written
   * in this generation that are still being evaluated (a twin written in parallel is as much a repeat).
   */
  private async existingPrograms(): Promise<{ id: string; text: string }[]> {
    const ids = this.db
      .candidates()
      .filter(hasProgram)
      .map((c) => c.id);
    for (const slot of this.ev.current?.slots ?? [])
      if (slot.candidateId && !this.db.get(slot.candidateId)) ids.push(slot.candidateId);
    return Promise.all(ids.map(async (id) => ({ id, text: evolveText(await this.programOf(id)) })));
  }

  private async shown(id: string): Promise<ShownProgram> {
    return { candidate: this.db.get(id)!, text: await this.programOf(id) };
  }

  /** A candidate's program: kept in memory, else read back from its artifact (a resumed run). */
  async programOf(id: string): Promise<string> {
    const known = this.texts.get(id);
    if (known !== undefined) return known;
    const stored = await this.ctx.sink.loadArtifact(EVOLVE_ARTIFACTS.program(id, this.ev.fileName));
    if (stored === null) throw new Error(`the program of ${id} is missing from the run's artifacts`);
    const text = stored.toString('utf8');
    this.texts.set(id, text);
    return text;
  }

  /** The database and the generator into the run's state, then the checkpoint. */
  private async save(): Promise<void> {
    this.ev.database = this.db.toJSON();
    this.ev.rng = this.rng.toJSON();
    await this.ctx.checkpoint();
  }

  databaseFile(): EvolveDatabaseFile {
    const { ev, db } = this;
    const best = db.best();
    return {
      direction: DIRECTION,
      program: ev.fileName,
      generation: ev.generation,
      candidates: db.candidates().map(candidateRecord),
      islands: Array.from({ length: db.islandCount }, (_, island) => db.islandMembers(island).map((c) => c.id)),
      elites: db.elites().map((c) => c.id),
      best: best?.id ?? null,
      bestByGeneration: db.bestByGeneration(),
      lineage: best ? db.lineage(best.id) : [],
      models: Object.entries(ev.bandit).map(([model, s]) => ({
        model,
        pulls: s.pulls,
        improvements: s.improvements,
        costUsd: s.costUsd,
      })),
      allocations: ev.allocations,
      rejections: ev.rejections,
      recommendations: ev.recommendations,
    };
  }
}

/** How the error of a child whose patch could not be applied begins (it has no program of its own). */
const PATCH_FAILED = 'the patch did not apply';

/** Whether a candidate was written out as a program (not rejected before, nor a patch that did not apply). */
const hasProgram = (c: EvolveCandidate): boolean =>
  c.status !== 'rejected' && !(c.status === 'failed' && c.error?.startsWith(PATCH_FAILED));

/** A candidate as the database file and its `candidate.json` show it. */
function candidateRecord(c: EvolveCandidate): EvolveDatabaseFile['candidates'][number] {
  return {
    candidateId: c.id,
    generation: c.generation,
    island: c.island,
    parentIds: c.parentIds,
    origin: c.patchType,
    model: c.model,
    status: c.status,
    score: c.score,
    metrics: c.metrics,
    error: c.error,
    summary: c.summary,
    children: c.children,
    durationMs: c.durationMs,
    similarTo: c.similarTo,
    similarity: c.similarity,
  };
}

/**
 * The user's program as text, read inside a sandbox (an upload is never opened on the host): at most 1 MB of UTF-8,
 * with balanced EVOLVE-BLOCK markers; anything else fails the run with `program_invalid`.
 */
async function readInitialProgram(ctx: RunContext, fileName: string): Promise<string> {
  const sandbox = await ctx.ports.sandboxes.open('reader', ctx.signal);
  let content: Buffer | undefined;
  try {
    const outcome = await sandbox.runProgram({
      files: [],
      command: ['cp', '--', `${INPUT_MOUNT}/code/${fileName}`, 'program'],
      exec: { timeoutMs: 60_000, signal: ctx.signal },
      outputs: { maxFiles: 10, maxFileBytes: MAX_PROGRAM_BYTES, maxTotalBytes: 2 * MAX_PROGRAM_BYTES },
    });
    content = outcome.files.find((f) => f.path === 'program')?.content;
    if (!content && outcome.skipped.some((s) => s.reason === 'file_too_large'))
      throw new RunFailure('program_invalid', `${fileName} is larger than ${MAX_PROGRAM_BYTES / 1024 / 1024} MB`);
    if (!content) {
      const why = outcome.outputError ?? (outcome.exec.stderr.text.trim() || `exit ${outcome.exec.exitCode}`);
      throw new RunFailure('program_invalid', `${fileName} could not be read from inputs.code: ${why.slice(0, 300)}`);
    }
  } catch (err) {
    if (err instanceof SandboxStepError)
      throw new RunFailure('program_invalid', `${fileName} could not be read: ${err.message}`);
    throw err;
  } finally {
    await sandbox.close();
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    throw new RunFailure('program_invalid', `${fileName} is not UTF-8 text`);
  }
  try {
    parseProgram(text);
  } catch (err) {
    if (err instanceof EvolveBlockError) throw new RunFailure('program_invalid', `${fileName}: ${err.message}`);
    throw err;
  }
  return text;
}

/** A 32-bit seed from the run id: a run draws the same sequence on every attempt. */
function seedOf(runId: string): number {
  let h = 2166136261;
  for (let i = 0; i < runId.length; i++) h = Math.imul(h ^ runId.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Runs `work` over `items`, at most `limit` at once; the first failure is thrown once all have settled. */
async function forEachAtOnce<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        errors.push(err);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (errors.length > 0) throw errors[0];
}
