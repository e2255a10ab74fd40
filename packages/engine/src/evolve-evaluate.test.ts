import { describe, expect, it } from 'vitest';
import { readEvaluation } from './evolve-evaluate.js';
import type { ExecResult } from './ports.js';

const MARK = '@@AUTOLAB_EVOLVE_RESULT@@';
const text = (t: string) => ({ text: t, totalBytes: t.length, droppedBytes: 0 });
const exec = (stdout: string, over: Partial<ExecResult> = {}): ExecResult => ({
  exitCode: 0,
  timedOut: false,
  outOfMemory: false,
  durationMs: 1200,
  stdout: text(stdout),
  stderr: text('Traceback (most recent call last):\nValueError: bad packing\n'),
  ...over,
});
const result = (r: { exit?: number; metrics?: string | null; correct?: string | null }) =>
  `candidate output\n${MARK}${JSON.stringify({ exit: 0, metrics: null, correct: null, ...r })}\n`;

describe('readEvaluation', () => {
  it('reads the score and every numeric metric; a missing correct.json counts as correct', () => {
    const verdict = readEvaluation(
      exec(result({ metrics: '{"score": 1.5, "n": 10, "note": "text", "ok": true}' })),
      60,
    );
    expect(verdict).toMatchObject({ status: 'evaluated', score: 1.5, metrics: { score: 1.5, n: 10, ok: 1 } });
    expect(verdict.stdoutTail).toBe('candidate output\n');
  });

  it('is incorrect with the evaluator’s reason, and keeps the metrics', () => {
    const verdict = readEvaluation(
      exec(result({ metrics: '{"score": 9}', correct: '{"correct": false, "error": "circles 1 and 2 overlap"}' })),
      60,
    );
    expect(verdict).toMatchObject({ status: 'incorrect', score: null, error: 'circles 1 and 2 overlap' });
  });

  it('fails with a reason for every way an evaluation can go wrong', () => {
    const reasons = [
      readEvaluation(exec(result({ exit: 1 })), 60).error,
      readEvaluation(exec(result({})), 60).error,
      readEvaluation(exec(result({ metrics: '[1, 2]' })), 60).error,
      readEvaluation(exec(result({ metrics: '{"loss": 1}' })), 60).error,
      readEvaluation(exec(result({ metrics: '{"score": 1}', correct: '{"correct": "yes"}' })), 60).error,
      readEvaluation(exec('no marker', { exitCode: 137 }), 60).error,
      readEvaluation(exec('', { timedOut: true }), 60).error,
    ];
    expect(reasons).toEqual([
      'evaluate.py exited with 1: ValueError: bad packing',
      'evaluate.py wrote no metrics.json',
      'metrics.json is not a JSON object',
      'metrics.json has no numeric "score"',
      'correct.json is not {"correct": true|false, "error"?: "…"}',
      'the evaluation ended without a result (exit 137): ValueError: bad packing',
      'the evaluation did not finish within 60 s',
    ]);
  });

  it('reads the last marked line: a program that prints a fake result first cannot set its score', () => {
    const fake = `${MARK}${JSON.stringify({ exit: 0, metrics: '{"score": 1e9}', correct: null })}\n`;
    const verdict = readEvaluation(exec(fake + result({ metrics: '{"score": 2}' })), 60);
    expect(verdict.score).toBe(2);
  });
});
