import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/**
 * The run's seeded source of randomness. Every random choice (orders, faults, jitter)
 * draws from one of these, handed down from the run; none calls Math.random.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** An independent stream, so that one consumer's draws do not shift another's. */
  fork(): Random;
}

class XoroshiroRandom implements Random {
  constructor(private readonly rng: JumpableRandomGenerator) {}
  next(): number {
    return uniformFloat64(this.rng);
  }
  int(min: number, max: number): number {
    return uniformInt(this.rng, min, max);
  }
  chance(p: number): boolean {
    return p > 0 && uniformFloat64(this.rng) < p;
  }
  fork(): Random {
    // jump() advances by 2^64 draws: the fork and the parent never overlap.
    const child = this.rng.clone();
    child.jump();
    this.rng.jump();
    this.rng.jump();
    return new XoroshiroRandom(child);
  }
}

/** A seeded generator (xoroshiro128+ from pure-rand). */
export function seededRandom(seed: number): Random {
  return new XoroshiroRandom(xoroshiro128plus(seed));
}
