import { describe, expect, it } from 'vitest';
import { EvolvePolicy, evaluatorEntryPoint, evolveProgramEntry } from './evolve.js';
import { evidenceRecordPath } from './evolve-artifacts.js';
import { CreateRunRequest } from './run.js';

const CODE = 'upl_01jabcdefghjkmnpqrstvwxyz0';
const EVALUATOR = 'upl_01jabcdefghjkmnpqrstvwxyz1';

const issuesOf = (body: unknown) =>
  CreateRunRequest.safeParse(body).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

describe('evolve mode requests', () => {
  it('needs the program and the evaluator, and no goal', () => {
    const parsed = CreateRunRequest.parse({ mode: 'evolve', inputs: { code: CODE, evaluator: EVALUATOR } });
    expect(parsed.mode).toBe('evolve');
    expect(parsed.goal).toBeUndefined();
    expect(issuesOf({ mode: 'evolve', inputs: { code: CODE } })).toEqual([
      'inputs.evaluator: evolve mode needs inputs.evaluator (an upload with evaluate.py)',
    ]);
  });

  it('refuses evolve settings and an evaluator in a research run, and research-only inputs in evolve mode', () => {
    expect(issuesOf({ goal: 'a research goal here', evolve: { generations: 3 } })).toEqual([
      'evolve: evolve settings need mode "evolve"',
    ]);
    expect(issuesOf({ goal: 'a research goal here', inputs: { evaluator: EVALUATOR } })[0]).toMatch(
      /^inputs.evaluator: inputs.evaluator is for mode "evolve"/,
    );
    expect(issuesOf({ mode: 'evolve', inputs: { code: CODE, evaluator: EVALUATOR, template: 'tabular' } })).toEqual([
      'inputs.template: evolve mode takes no inputs.template',
    ]);
  });

  it('defaults every setting, and refuses a patch mix with nothing in it', () => {
    expect(EvolvePolicy.parse({})).toMatchObject({
      generations: 10,
      population: 4,
      islands: 2,
      migrationInterval: 5,
      patchTypes: { diff: 0.6, rewrite: 0.3, crossover: 0.1 },
      noveltyThreshold: 0.99,
      metaInterval: 3,
    });
    expect(EvolvePolicy.safeParse({ patchTypes: { diff: 0, rewrite: 0, crossover: 0 } }).success).toBe(false);
  });
});

describe('entry points', () => {
  it('finds the program: named, the only top-level file, program.py or main.py', () => {
    expect(evolveProgramEntry(['heuristic.py', 'lib/util.py'])).toBe('heuristic.py');
    expect(evolveProgramEntry(['a.py', 'program.py'])).toBe('program.py');
    expect(evolveProgramEntry(['a.py', 'b.py'])).toBeNull();
    expect(evolveProgramEntry(['a.py', 'b.py'], 'b.py')).toBe('b.py');
    expect(evolveProgramEntry(['a.py'], 'missing.py')).toBeNull();
  });

  it('finds the evaluator: evaluate.py or the only top-level .py file', () => {
    expect(evaluatorEntryPoint(['evaluate.py', 'helpers.py'])).toBe('evaluate.py');
    expect(evaluatorEntryPoint(['score.py', 'data/x.csv'])).toBe('score.py');
    expect(evaluatorEntryPoint(['a.py', 'b.py'])).toBeNull();
  });
});

describe('evidenceRecordPath', () => {
  it('names a research node’s node.json and an evolve candidate’s candidate.json', () => {
    expect(evidenceRecordPath('n004')).toBe('nodes/n004/node.json');
    expect(evidenceRecordPath('c012')).toBe('evolve/candidates/c012/candidate.json');
  });
});
