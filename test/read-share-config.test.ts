import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import { InvalidOptionError } from '../src/errors.js';

describe('--read-share in the run config', () => {
  it('defaults to 0: orders only', () => {
    expect(resolveRunConfig({ out: false }).readShare).toBe(0);
  });

  it('accepts 0.5 and 0, as strings or numbers', () => {
    expect(resolveRunConfig({ out: false, readShare: '0.5' }).readShare).toBe(0.5);
    expect(resolveRunConfig({ out: false, readShare: 0 }).readShare).toBe(0);
    expect(resolveRunConfig({ out: false, readShare: '0.999' }).readShare).toBe(0.999);
  });

  it('refuses 1, a negative share and a word, naming the option', () => {
    for (const bad of ['1', '-1', 'abc']) {
      expect(() => resolveRunConfig({ out: false, readShare: bad })).toThrow(InvalidOptionError);
      expect(() => resolveRunConfig({ out: false, readShare: bad })).toThrow(`invalid value for --read-share: "${bad}" (expected a share from 0 to less than 1)`);
    }
    expect(() => resolveRunConfig({ out: false, readShare: 1 })).toThrow('invalid value for --read-share: 1 (expected a share from 0 to less than 1)');
  });
});
