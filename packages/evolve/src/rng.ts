import { z } from 'zod';

/**
 * The seeded random numbers of an evolve run. The state is four plain 32-bit integers so it goes into the run's
 * checkpoint as JSON, and a resumed run draws the same sequence the interrupted one would have. sfc32 (Chris Doty-
 * Humphrey's Small Fast Counting generator, passes PractRand) written out here rather than pure-rand, whose
 * generators keep their state behind methods that change between major versions.
 */
export const RngState = z.object({
  a: z.number().int().min(0).max(0xffffffff),
  b: z.number().int().min(0).max(0xffffffff),
  c: z.number().int().min(0).max(0xffffffff),
  d: z.number().int().min(0).max(0xffffffff),
});
export type RngState = z.infer<typeof RngState>;

export class SeededRng {
  private state: RngState;

  constructor(state: RngState) {
    this.state = { ...state };
  }

  /** A generator from any integer seed (splitmix32 spreads it over the four words; equal seeds, equal sequences). */
  static fromSeed(seed: number): SeededRng {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    const rng = new SeededRng({ a: next(), b: next(), c: next(), d: next() });
    for (let i = 0; i < 12; i++) rng.nextUint32(); // sfc32's recommended warm-up
    return rng;
  }

  /** Reads a checkpointed state; throws (a zod error) when it is not one. */
  static fromJSON(state: unknown): SeededRng {
    return new SeededRng(RngState.parse(state));
  }

  toJSON(): RngState {
    return { ...this.state };
  }

  nextUint32(): number {
    let { a, b, c, d } = this.state;
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = (b ^ (b >>> 9)) >>> 0;
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    this.state = { a, b, c, d };
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
