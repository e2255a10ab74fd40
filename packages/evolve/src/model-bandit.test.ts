import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BanditState, choose, record } from './model-bandit.js';

const play = (
  models: string[],
  improves: (model: string) => boolean,
  rounds: number,
  cost: (model: string) => number = () => 0.01,
  options = {},
) => {
  let state: BanditState = {};
  const picks: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const { model } = choose(state, models, options);
    picks.push(model);
    state = record(state, model, improves(model), cost(model));
  }
  return { state, picks };
};

describe('model bandit', () => {
  it('tries every model once first, in the order given, and says so', () => {
    const first = choose({}, ['gpt-a', 'gpt-b']);
    expect(first).toEqual({
      model: 'gpt-a',
      reason: 'gpt-a has not been tried yet (every model writes a child before the bandit compares them)',
      scores: { 'gpt-a': null, 'gpt-b': null },
    });
    const second = choose(record({}, 'gpt-a', true, 0.02), ['gpt-a', 'gpt-b']);
    expect(second.model).toBe('gpt-b');
    expect(second.scores).toEqual({ 'gpt-a': 1 - 0.1, 'gpt-b': null }); // rate 1, no bonus at N = 1, the dearest
  });

  it('scores by UCB1 on the improvement rate minus the cost penalty, with a readable reason', () => {
    const state: BanditState = {
      'gpt-a': { pulls: 6, improvements: 5, costUsd: 0.06 },
      'gpt-b': { pulls: 4, improvements: 1, costUsd: 0.08 },
    };
    const choice = choose(state, ['gpt-a', 'gpt-b'], { exploration: 0.5, costWeight: 0.2 });
    const bonus = (pulls: number) => 0.5 * Math.sqrt((2 * Math.log(10)) / pulls);
    const a = 5 / 6 + bonus(6) - 0.2 * (0.01 / 0.02);
    const b = 1 / 4 + bonus(4) - 0.2;
    expect(choice.scores['gpt-a']).toBeCloseTo(a, 12);
    expect(choice.scores['gpt-b']).toBeCloseTo(b, 12);
    expect(choice.model).toBe('gpt-a');
    expect(choice.reason).toBe(
      `gpt-a: 5 of 6 children improved on their parent, ucb ${a.toFixed(2)} > gpt-b ${b.toFixed(2)}`,
    );
  });

  it('charges nothing when every model is free, and lets cost decide between equals', () => {
    const even = { pulls: 4, improvements: 2, costUsd: 0 };
    expect(choose({ a: even, b: even }, ['a', 'b']).scores.a).toBeCloseTo(0.5 + Math.sqrt((2 * Math.log(8)) / 4));
    expect(choose({ a: { ...even, costUsd: 0.4 }, b: { ...even, costUsd: 0.1 } }, ['a', 'b']).model).toBe('b');
  });

  it('handles one model and refuses none', () => {
    expect(choose({}, ['solo']).reason).toBe('solo is the only mutation model');
    expect(choose(record({}, 'solo', false, 0), ['solo'])).toMatchObject({
      model: 'solo',
      reason: 'solo is the only mutation model (0 of 1 child improved on their parent)',
    });
    expect(() => choose({}, [])).toThrow(/at least one/);
  });

  it('counts pending children as tries, so choices made in parallel spread over the models', () => {
    const models = ['gpt-a', 'gpt-b'];
    const pending: Record<string, number> = {};
    const picks: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { model } = choose({}, models, { pending });
      picks.push(model);
      pending[model] = (pending[model] ?? 0) + 1;
    }
    expect(picks).toEqual(['gpt-a', 'gpt-b', 'gpt-a', 'gpt-b']);
    const state: BanditState = { 'gpt-a': { pulls: 10, improvements: 8, costUsd: 0 } };
    const choice = choose(state, models, { pending: { 'gpt-a': 1, 'gpt-b': 1 }, exploration: 0.2 });
    expect(choice.model).toBe('gpt-a');
    expect(choice.reason).toMatch(/^gpt-a: 8 of 10 children improved on their parent, ucb [\d.]+ > gpt-b [\d.]+$/);
    expect(choose(state, models, { pending: { 'gpt-a': 1, 'gpt-b': 1 } }).reason).toMatch(
      /^gpt-b: no child evaluated yet \(1 pending\)/,
    );
  });

  it('record returns a new state and leaves the old one alone', () => {
    const before: BanditState = {};
    const after = record(before, 'm', true, 0.5);
    expect(before).toEqual({});
    expect(after).toEqual({ m: { pulls: 1, improvements: 1, costUsd: 0.5 } });
    expect(BanditState.parse(JSON.parse(JSON.stringify(after)))).toEqual(after);
    expect(() => BanditState.parse({ m: { pulls: -1, improvements: 0, costUsd: 0 } })).toThrow();
  });

  it('property: the model that always improves gets the clear majority of the later half of 40 rounds', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.double({ min: 0.1, max: 1.5, noNaN: true }),
        fc.double({ min: 0.001, max: 0.05, noNaN: true }),
        (goodFirst, exploration, cost) => {
          const models = goodFirst ? ['good', 'bad'] : ['bad', 'good'];
          const { picks } = play(
            models,
            (m) => m === 'good',
            40,
            () => cost,
            { exploration },
          );
          const later = picks.slice(20);
          expect(later.filter((m) => m === 'good').length).toBeGreaterThanOrEqual(15);
        },
      ),
    );
  });

  it('with the default settings the improving model gets at least 17 of the last 20 rounds', () => {
    const { picks, state } = play(['bad', 'good'], (m) => m === 'good', 40);
    expect(picks.slice(20).filter((m) => m === 'good').length).toBeGreaterThanOrEqual(17);
    expect(state.good!.improvements).toBe(state.good!.pulls);
  });
});
