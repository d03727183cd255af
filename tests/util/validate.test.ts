// One set of checks for values given as text or JSON, with one message shape.
import { describe, expect, it } from 'vitest';
import { checkChoice, checkInt, checkNumber, checkSeed, SEED_MAX, ValueError } from '../../src/lib/util/validate';

const message = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValueError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('validators', () => {
  it('accept numbers and their decimal text, inside the bounds', () => {
    expect(checkInt('n', '12', { min: 1 })).toBe(12);
    expect(checkInt('n', 7)).toBe(7);
    expect(checkInt('n', ' -3 ')).toBe(-3);
    expect(checkNumber('T', '0.5', { above: 0 })).toBe(0.5);
    expect(checkNumber('w', '1e-3')).toBe(0.001);
    expect(checkNumber('p', 1, { min: 0, max: 1 })).toBe(1);
    expect(checkSeed('seed', '0')).toBe(0);
    expect(checkSeed('seed', SEED_MAX)).toBe(2147483647);
    expect(checkChoice('method', 'naive', ['naive', 'resampling'])).toBe('naive');
  });

  it('refuse everything else as `invalid <name>: <value> (<allowed>)`', () => {
    expect(message(() => checkInt('--n', 'x', { min: 1 }))).toBe('invalid --n: "x" (an integer ≥ 1)');
    expect(message(() => checkInt('--n', '1.5'))).toBe('invalid --n: "1.5" (an integer)');
    expect(message(() => checkInt('--n', '', { min: 1 }))).toBe('invalid --n: "" (an integer ≥ 1)');
    expect(message(() => checkInt('depth', 9, { min: 1, max: 4 }))).toBe('invalid depth: 9 (an integer in [1, 4])');
    expect(message(() => checkNumber('T', '0', { above: 0 }))).toBe('invalid T: "0" (a number > 0)');
    expect(message(() => checkNumber('T', 'Infinity', { above: 0 }))).toBe('invalid T: "Infinity" (a number > 0)');
    expect(message(() => checkNumber('p', 1, { min: 0, below: 1 }))).toBe('invalid p: 1 (a number in [0, 1))');
    expect(message(() => checkNumber('s', 11, { above: 0, max: 10 }))).toBe('invalid s: 11 (a number in (0, 10])');
    expect(message(() => checkNumber('x', null))).toBe('invalid x: null (a number)');
    expect(message(() => checkSeed('seed', -1))).toBe(`invalid seed: -1 (an integer in [0, ${SEED_MAX}])`);
    expect(message(() => checkSeed('--seed', String(SEED_MAX + 1)))).toBe(
      `invalid --seed: "${SEED_MAX + 1}" (an integer in [0, ${SEED_MAX}])`,
    );
    expect(message(() => checkInt('n', 2 ** 53))).toMatch(/^invalid n: 9007199254740992 \(an integer\)$/);
    expect(message(() => checkChoice('method', 'greedy', ['naive', 'resampling']))).toBe(
      'invalid method: "greedy" (one of naive, resampling)',
    );
  });
});
