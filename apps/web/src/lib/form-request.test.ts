import { CreateRunRequest } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { FORM_DEFAULTS, toRequest } from './form-request.js';

const UPLOAD = 'upl_00000000000000000000000001';

describe('the new-run request', () => {
  it('sends a research run as before, without the evolve settings', () => {
    const request = toRequest({ ...FORM_DEFAULTS, goal: 'A goal that is long enough' });
    expect(request).toMatchObject({ goal: 'A goal that is long enough', maxIterations: 6, seeds: 3 });
    expect(request).not.toHaveProperty('mode');
    expect(request).not.toHaveProperty('evolve');
    expect(CreateRunRequest.safeParse(request).success).toBe(true);
  });

  it("sends an evolve run's settings, its goal only when given, and none of the research steps'", () => {
    const request = toRequest({ ...FORM_DEFAULTS, generations: '3', population: '6', islands: '' }, 'evolve');
    expect(request).toEqual({
      mode: 'evolve',
      evolve: { generations: 3, population: 6 },
      timeLimitMinutes: 60,
      sandbox: { cpus: 1, memoryMb: 2048, execTimeoutSeconds: 300 },
      search: { nodeConcurrency: 1 },
    });
    // With its uploads the contract takes it as it is.
    expect(CreateRunRequest.safeParse({ ...request, inputs: { code: UPLOAD, evaluator: UPLOAD } }).success).toBe(true);
    expect(toRequest({ ...FORM_DEFAULTS, goal: '  Pack the circles tighter.  ' }, 'evolve').goal).toBe(
      'Pack the circles tighter.',
    );
  });
});
