import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { UsageError } from '../errors.js';
import { RUN_ID, sampleRun } from '../testing/samples.js';
import { captureIo, type StubServer, sendJson, startStubServer } from '../testing/stub-server.js';
import { buildCreateRunRequest, resolveGoal } from './submit.js';

const GOAL = 'Does label smoothing improve calibration?';

describe('buildCreateRunRequest', () => {
  it('sends only what was given, the sandbox options nested', () => {
    expect(buildCreateRunRequest(`  ${GOAL}\n`, {})).toEqual({ goal: GOAL });
    expect(
      buildCreateRunRequest(GOAL, {
        maxIterations: 3,
        budgetUsd: 2.5,
        timeLimitMinutes: 30,
        model: 'qwen2.5:7b',
        cpus: 2,
        memoryMb: 4096,
        execTimeoutSeconds: 120,
        idempotencyKey: 'ignored here',
        watch: true,
        json: true,
      }),
    ).toEqual({
      goal: GOAL,
      maxIterations: 3,
      budgetUsd: 2.5,
      timeLimitMinutes: 30,
      model: 'qwen2.5:7b',
      sandbox: { cpus: 2, memoryMb: 4096, execTimeoutSeconds: 120 },
    });
    expect(buildCreateRunRequest(GOAL, { memoryMb: 512 })).toEqual({ goal: GOAL, sandbox: { memoryMb: 512 } });
  });

  it('takes the held-out flags only together: --hidden with one of --grader and --metric', () => {
    expect(() => buildCreateRunRequest(GOAL, { hidden: 'answers' })).toThrow(
      new UsageError('--hidden needs either --grader FILE or --metric NAME (one of them)'),
    );
    expect(() => buildCreateRunRequest(GOAL, { hidden: 'a', grader: 'g.py', metric: 'f1' })).toThrow(/one of them/);
    expect(() => buildCreateRunRequest(GOAL, { metric: 'f1' })).toThrow(/need --hidden/);
    expect(() => buildCreateRunRequest(GOAL, { hidden: 'a', metric: 'r2' })).toThrow(
      new UsageError('--metric: one of accuracy, f1, auc, rmse, mae, logloss'),
    );
    expect(() => buildCreateRunRequest(GOAL, { hidden: 'a', grader: 'g.py', direction: 'up' })).toThrow(/--direction/);
    // The evaluation itself is filled in once the files are uploaded.
    expect(buildCreateRunRequest(GOAL, { hidden: 'a', grader: 'g.py', direction: 'minimize' })).toEqual({ goal: GOAL });
  });

  it('maps the token cap and the search, ideation and review policies, each group only when used', () => {
    expect(
      buildCreateRunRequest(GOAL, {
        maxTokens: 200_000,
        numDrafts: 3,
        debugProb: 0.25,
        maxDebugDepth: 2,
        nodeConcurrency: 4,
        numIdeas: 5,
        reflections: 0,
        reviewers: 0,
        revise: true,
        seeds: 0,
        pageLimit: 4,
      }),
    ).toEqual({
      goal: GOAL,
      maxTokens: 200_000,
      search: { numDrafts: 3, debugProb: 0.25, maxDebugDepth: 2, nodeConcurrency: 4 },
      ideation: { numIdeas: 5, reflections: 0 },
      review: { reviewers: 0, revise: true },
      seeds: 0,
      pageLimit: 4,
    });
    expect(buildCreateRunRequest(GOAL, { nodeConcurrency: 2 })).toEqual({ goal: GOAL, search: { nodeConcurrency: 2 } });
    expect(buildCreateRunRequest(GOAL, { revise: false })).toEqual({ goal: GOAL, review: { revise: false } });
    expect(buildCreateRunRequest(GOAL, { reflections: 2 })).toEqual({ goal: GOAL, ideation: { reflections: 2 } });
  });

  it('names the flag of a policy value out of range', () => {
    expect(() => buildCreateRunRequest(GOAL, { maxTokens: 10 })).toThrow(/--max-tokens/);
    expect(() => buildCreateRunRequest(GOAL, { numDrafts: 0 })).toThrow(/--num-drafts/);
    expect(() => buildCreateRunRequest(GOAL, { debugProb: 1.5 })).toThrow(/--debug-prob/);
    expect(() => buildCreateRunRequest(GOAL, { maxDebugDepth: 11 })).toThrow(/--max-debug-depth/);
    expect(() => buildCreateRunRequest(GOAL, { nodeConcurrency: 9 })).toThrow(/--node-concurrency/);
    expect(() => buildCreateRunRequest(GOAL, { numIdeas: 0 })).toThrow(/--num-ideas/);
    expect(() => buildCreateRunRequest(GOAL, { reflections: 6 })).toThrow(/--reflections/);
    expect(() => buildCreateRunRequest(GOAL, { reviewers: 8 })).toThrow(/--reviewers/);
    expect(() => buildCreateRunRequest(GOAL, { seeds: 11 })).toThrow(/--seeds/);
    expect(() => buildCreateRunRequest(GOAL, { pageLimit: 0 })).toThrow(/--page-limit/);
  });

  it('rejects out-of-range values by the contract, naming the flag', () => {
    expect(() => buildCreateRunRequest(GOAL, { maxIterations: 500 })).toThrow(/--max-iterations/);
    expect(() => buildCreateRunRequest(GOAL, { cpus: 0.1 })).toThrow(/--cpus/);
    expect(() => buildCreateRunRequest(GOAL, { image: 'Not A Name' })).toThrow(/--image/);
    expect(() => buildCreateRunRequest(GOAL, { model: 'bad model name' })).toThrow(/--model/);
    expect(() => buildCreateRunRequest(GOAL, { modelJudge: '../judge' })).toThrow(/--model-judge/);
    expect(() => buildCreateRunRequest('short', {})).toThrow(/goal: the goal needs at least 10 characters/);
    expect(() => buildCreateRunRequest(GOAL, { budgetUsd: -1 })).toThrow(UsageError);
  });

  it('starts from a template, with or without a goal, never together with --code', () => {
    expect(buildCreateRunRequest('', { template: 'tabular' })).toEqual({ inputs: { template: 'tabular' } });
    expect(buildCreateRunRequest(GOAL, { template: 'tabular' })).toEqual({
      goal: GOAL,
      inputs: { template: 'tabular' },
    });
    expect(() => buildCreateRunRequest('', {})).toThrow(/goal: give a goal/);
    expect(() => buildCreateRunRequest('', { template: 'Not A Name' })).toThrow(/--template: not a template name/);
    expect(() => buildCreateRunRequest('', { template: 'tabular', code: './src' })).toThrow(
      /--template and --code: a run has one starting program/,
    );
  });
});

describe('resolveGoal', () => {
  const stdin = async () => 'from stdin';

  it('joins words, reads a file, or reads stdin for "-"', async () => {
    expect(await resolveGoal(['does', 'x', 'help?'], undefined, stdin)).toBe('does x help?');
    expect(await resolveGoal(['-'], undefined, stdin)).toBe('from stdin');
    expect(await resolveGoal([], '-', stdin)).toBe('from stdin');
    const dir = await mkdtemp(join(tmpdir(), 'autolab-cli-'));
    await writeFile(join(dir, 'goal.md'), 'from a file');
    expect(await resolveGoal([], join(dir, 'goal.md'), stdin)).toBe('from a file');
    await expect(resolveGoal([], join(dir, 'missing.md'), stdin)).rejects.toThrow(/ENOENT/);
    await rm(dir, { recursive: true });
  });

  it('wants exactly one source', async () => {
    await expect(resolveGoal([], undefined, stdin)).rejects.toThrow(UsageError);
    await expect(resolveGoal(['a'], 'goal.md', stdin)).rejects.toThrow(/not both/);
    // With a template the goal may be left out.
    expect(await resolveGoal([], undefined, stdin, true)).toBe('');
  });
});

describe('autolab submit', () => {
  let server: StubServer;

  beforeEach(async () => {
    server = await startStubServer((request, res) => {
      if (request.method === 'POST' && request.url === '/v1/runs') {
        sendJson(res, 202, sampleRun({ status: 'queued', stage: null, iteration: 0 }));
      } else {
        sendJson(res, 404, { error: { code: 'not_found', message: request.url } });
      }
    });
  });
  afterEach(() => server.close());

  it('maps flags to the request body and headers, and prints the id and absolute links', async () => {
    const { io, stdout } = captureIo();
    const code = await runCli(
      [
        'submit',
        'Does',
        'label smoothing',
        'improve calibration?',
        '--max-iterations',
        '3',
        '--budget-usd=2.5',
        '--time-limit-minutes',
        '30',
        '--model',
        'gpt-4o-mini',
        '--model-judge',
        'llama3.1:8b',
        '--model-review=gpt-4o',
        '--model-vision',
        'none',
        '--cpus',
        '1.5',
        '--memory-mb',
        '1024',
        '--exec-timeout-seconds',
        '60',
        '--image',
        'graphs',
        '--idempotency-key',
        'key-1',
      ],
      { env: { AUTOLAB_URL: server.url, AUTOLAB_API_KEY: 'secret' }, io },
    );
    expect(code).toBe(0);
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(JSON.parse(request!.body)).toEqual({
      goal: GOAL,
      maxIterations: 3,
      budgetUsd: 2.5,
      timeLimitMinutes: 30,
      model: 'gpt-4o-mini',
      models: { judge: 'llama3.1:8b', review: 'gpt-4o', vision: null },
      sandbox: { cpus: 1.5, memoryMb: 1024, execTimeoutSeconds: 60, image: 'graphs' },
    });
    expect(request!.headers['idempotency-key']).toBe('key-1');
    expect(request!.headers.authorization).toBe('Bearer secret');
    expect(request!.headers['content-type']).toBe('application/json');
    const lines = stdout().split('\n');
    expect(lines[0]).toBe(RUN_ID);
    // The page a person opens comes first; the API links after it.
    expect(lines[2]).toBe(`  dashboard  ${server.url}/runs/${RUN_ID}`);
    expect(stdout()).toContain(`${server.url}/v1/runs/${RUN_ID}/events`);
  });

  it('maps every policy flag on the command line to the request body', async () => {
    const { io } = captureIo();
    const argv = [
      ['submit', GOAL],
      ['--max-tokens', '150000'],
      ['--num-drafts', '4', '--debug-prob', '0.3', '--max-debug-depth', '1', '--node-concurrency', '2'],
      ['--num-ideas', '2', '--reflections', '3'],
      ['--reviewers', '5', '--revise'],
      ['--seeds', '1', '--page-limit', '6'],
    ].flat();
    expect(await runCli(argv, { env: { AUTOLAB_URL: server.url }, io })).toBe(0);
    expect(JSON.parse(server.requests[0]!.body)).toEqual({
      goal: GOAL,
      maxTokens: 150000,
      search: { numDrafts: 4, debugProb: 0.3, maxDebugDepth: 1, nodeConcurrency: 2 },
      ideation: { numIdeas: 2, reflections: 3 },
      review: { reviewers: 5, revise: true },
      seeds: 1,
      pageLimit: 6,
    });
    expect(await runCli(['submit', GOAL, '--no-revise'], { env: { AUTOLAB_URL: server.url }, io })).toBe(0);
    expect(JSON.parse(server.requests[1]!.body)).toEqual({ goal: GOAL, review: { revise: false } });
    const bad = captureIo();
    expect(await runCli(['submit', GOAL, '--debug-prob', '2'], { env: { AUTOLAB_URL: server.url }, io: bad.io })).toBe(
      2,
    );
    expect(bad.stderr()).toMatch(/^autolab: --debug-prob: /);
    expect(server.requests).toHaveLength(2);
  });

  it('reads the goal from stdin and prints the record with --json', async () => {
    const { io, stdout } = captureIo(`${GOAL}\n`);
    const code = await runCli(['submit', '-', '--json'], { env: { AUTOLAB_URL: server.url }, io });
    expect(code).toBe(0);
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ goal: GOAL });
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
    expect(JSON.parse(stdout()).id).toBe(RUN_ID);
  });

  it('refuses bad arguments with exit code 2 before sending anything', async () => {
    const cases = [
      ['submit', GOAL, '--max-iterations', 'three'],
      ['submit', GOAL, '--max-iterations', '1000'],
      ['submit', GOAL, '--budget-usd', 'lots'],
      ['submit', 'too short'],
      ['submit'],
      ['submit', GOAL, '--no-such-flag'],
    ];
    for (const argv of cases) {
      const { io, stderr } = captureIo();
      expect(await runCli(argv, { env: { AUTOLAB_URL: server.url }, io }), argv.join(' ')).toBe(2);
      expect(stderr()).not.toMatch(/\n\s+at /);
    }
    expect(server.requests).toHaveLength(0);
  });
});
