import { EVOLVE_ARTIFACTS, EvolvePolicy, type NewEvent } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import type { ProgramOutcome, ProgramRun, Sandbox, SandboxFactory } from './ports.js';
import { runResearch } from './research-run.js';
import { execResult, FakeLlm, FakeSandbox, MemorySink, setup, text } from './testing/fakes.js';

/**
 * Evolve mode with in-memory ports: what a checkpoint holds at every write, so that a worker that dies after any
 * write resumes from a state it can finish (tests/e2e/evolve-resume.int.test.ts kills a real worker).
 */

const PROGRAM = `N = 3
# EVOLVE-BLOCK-START
def f():
    return 1
# EVOLVE-BLOCK-END
`;
const RESULT_MARKER = '@@AUTOLAB_EVOLVE_RESULT@@';

/** Reads the program back for the engine, and "evaluates" a child: its score is the number its `f` returns. */
async function runEvolveProgram(run: ProgramRun): Promise<ProgramOutcome> {
  if (run.command[0] === 'cp')
    return {
      exec: execResult(),
      files: [{ path: 'program', content: Buffer.from(PROGRAM) }],
      skipped: [],
      outputError: null,
    };
  const program = run.files[0]!.content.toString();
  const score = Number(/return (\d+)/.exec(program)?.[1] ?? 0);
  const report = { exit: 0, metrics: JSON.stringify({ score }), correct: JSON.stringify({ correct: true }) };
  return {
    exec: execResult({ stdout: text(`\n${RESULT_MARKER}${JSON.stringify(report)}\n`) }),
    files: [],
    skipped: [],
    outputError: null,
  };
}

/** Sandboxes that read the program back and "evaluate" children with `runEvolveProgram`. */
const evolveSandboxes: SandboxFactory = {
  open: async () => {
    const sandbox: Sandbox = new FakeSandbox();
    sandbox.runProgram = runEvolveProgram;
    return sandbox;
  },
};

/** Evolve mode's input for PROGRAM with these settings and one fake mutation model. */
const evolveInput = (settings: Parameters<typeof EvolvePolicy.parse>[0]) => ({
  policy: EvolvePolicy.parse(settings),
  fileName: 'program.py',
  evaluatorEntry: 'evaluate.py',
  models: ['fake'],
});

const rewrite = (body: string) => ({ args: { summary: `return ${body}`, blocks: [`def f():\n    ${body}\n`] } });

describe('evolve mode', () => {
  it('never checkpoints a written child whose program is not saved yet (a resumed worker could not evaluate it)', async () => {
    const { input } = setup({});
    // Two children written at once; the first one's program takes a while to reach the artifact store.
    const sink = new (class extends MemorySink {
      orphans: string[] = [];
      override async saveArtifact(path: string, content: Buffer | string) {
        if (path === EVOLVE_ARTIFACTS.program('c001', 'program.py')) await new Promise((r) => setTimeout(r, 50));
        await super.saveArtifact(path, content);
      }
      override async saveCheckpoint(write: Parameters<MemorySink['saveCheckpoint']>[0]) {
        await super.saveCheckpoint(write);
        const head = this.stored!.head as { evolve?: { current: { slots: { candidateId: string | null }[] } | null } };
        for (const slot of head.evolve?.current?.slots ?? [])
          if (slot.candidateId && !this.artifacts.has(EVOLVE_ARTIFACTS.program(slot.candidateId, 'program.py')))
            this.orphans.push(slot.candidateId);
      }
    })();
    const llm = new FakeLlm({
      propose_rewrite: [rewrite('return 2 + 0 * sum(range(3))'), rewrite('return max(4, len("abc"))')],
      explain_best_program: [{ args: { summary: 'f returns more.', changes: [] } }],
    });
    const outcome = await runResearch(
      {
        ...input,
        policy: { ...input.policy, search: { ...input.policy.search, nodeConcurrency: 2 } },
        evolve: evolveInput({
          generations: 1,
          population: 2,
          islands: 1,
          patchTypes: { diff: 0, rewrite: 1, crossover: 0 },
          metaInterval: 0,
        }),
      },
      { llm, sandboxes: evolveSandboxes, sink, clock: { now: Date.now } },
      new AbortController().signal,
    );
    expect(outcome.status).toBe('succeeded');
    const evaluated = sink.events.filter((e: NewEvent) => e.type === 'candidate.evaluated');
    expect(evaluated.map((e) => (e.data as { candidateId: string }).candidateId).sort()).toEqual([
      'c000',
      'c001',
      'c002',
    ]);
    expect(sink.orphans).toEqual([]);
  });

  it('records a diff that does not apply as a failed child without a program, and the next child is still checked for novelty', async () => {
    const { input } = setup({});
    const sink = new MemorySink();
    const llm = new FakeLlm({
      propose_diff: [
        { args: { summary: 'edit code that is not there', edits: [{ search: 'return 7', replace: 'return 8' }] } },
        { args: { summary: 'return 5', edits: [{ search: 'return 1', replace: 'return 5' }] } },
      ],
      explain_best_program: [{ args: { summary: 'f returns more.', changes: [] } }],
    });
    const outcome = await runResearch(
      {
        ...input,
        evolve: evolveInput({
          generations: 2,
          population: 1,
          islands: 1,
          patchTypes: { diff: 1, rewrite: 0, crossover: 0 },
          metaInterval: 0,
        }),
      },
      { llm, sandboxes: evolveSandboxes, sink, clock: { now: Date.now } },
      new AbortController().signal,
    );
    expect(outcome.status).toBe('succeeded');
    const evaluated = sink.events
      .filter((e: NewEvent) => e.type === 'candidate.evaluated')
      .map((e) => e.data as { candidateId: string; status: string; score: number | null; error: string | null });
    expect(evaluated).toMatchObject([
      { candidateId: 'c000', status: 'evaluated', score: 1 },
      { candidateId: 'c001', status: 'failed', error: expect.stringMatching(/^the patch did not apply: /) },
      { candidateId: 'c002', status: 'evaluated', score: 5 },
    ]);
    expect(sink.artifacts.has(EVOLVE_ARTIFACTS.program('c001', 'program.py'))).toBe(false);
  });

  it('puts the researcher’s hints into the mutation prompts, and stops at the budget with the rest kept for the report', async () => {
    const { input } = setup({});
    const sink = new MemorySink();
    // Each call costs $0.3 of a $1 budget: 80 % (the evolution's share) is spent after three calls.
    const llm = new FakeLlm(
      {
        propose_rewrite: [
          rewrite('return 2'),
          rewrite('return 3 + 0'),
          rewrite('return 4 * 1'),
          rewrite('return 5 - 0'),
        ],
        explain_best_program: [{ args: { summary: 'f returns more.', changes: [] } }],
      },
      0.3,
    );
    const applied: string[] = [];
    const hint = {
      id: 'hnt_1',
      text: 'Try returning larger constants.',
      createdAt: '',
      appliedAt: null as string | null,
      appliedTo: null as string | null,
    };
    const hints = {
      list: async () => [{ ...hint }],
      markApplied: async (id: string, step: string) => {
        applied.push(`${id} ${step}`);
        hint.appliedAt = 'now';
        hint.appliedTo = step;
      },
    };
    const outcome = await runResearch(
      {
        ...input,
        budgetUsd: 1,
        evolve: evolveInput({
          generations: 10,
          population: 1,
          islands: 1,
          patchTypes: { diff: 0, rewrite: 1, crossover: 0 },
          metaInterval: 0,
        }),
      },
      { llm, sandboxes: evolveSandboxes, sink, clock: { now: Date.now }, hints },
      new AbortController().signal,
    );
    expect(outcome.status).toBe('succeeded');
    const mutations = llm.calls.filter((c) => c.purpose === 'mutate');
    expect(mutations.length).toBe(3);
    for (const call of mutations) expect(call.prompt).toContain('Try returning larger constants.');
    expect(applied).toEqual(['hnt_1 generation 1']);
    const stopped = sink.events.find((e: NewEvent) => e.type === 'stage.finished');
    expect((stopped!.data as { reason: string }).reason).toMatch(/^spent \$0\.9000 of the \$1 budget/);
    // The report was still written, from what the budget left.
    expect(sink.artifacts.has(EVOLVE_ARTIFACTS.report)).toBe(true);
  });
});
