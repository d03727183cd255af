// The explicit-transpose BatchMatMul gradient against tfjs's own and against float64 finite differences.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { useFastMatMulGradient, fastMatMulGradientActive, matMulBroadcastIsExact } from '../../src/lib/tf/matmul-grad';
import { Rng } from '../../src/lib/util/random';

/** op(A)·op(B) with op(A) = [...batchA, M, K] and op(B) = [...batchB, K, N]. */
interface Case {
  batchA: number[];
  batchB: number[];
  M: number;
  K: number;
  N: number;
}

const cases: Record<string, Case> = {
  'rank 2': { batchA: [], batchB: [], M: 3, K: 4, N: 5 },
  'rank 2, one row and column': { batchA: [], batchB: [], M: 1, K: 4, N: 1 },
  'rank 3': { batchA: [2], batchB: [2], M: 3, K: 4, N: 2 },
  'rank 4': { batchA: [2, 3], batchB: [2, 3], M: 2, K: 3, N: 4 },
  'batch dim 1 on A': { batchA: [1], batchB: [3], M: 3, K: 2, N: 4 },
  'leading batch dim 1 on B': { batchA: [2, 3], batchB: [1, 3], M: 2, K: 3, N: 2 },
  'B rank 2 under batched A': { batchA: [2], batchB: [], M: 3, K: 4, N: 5 },
  'A rank 2 under rank-4 B': { batchA: [], batchB: [2, 2], M: 2, K: 3, N: 4 },
  'rank 3 under rank 4': { batchA: [3], batchB: [2, 3], M: 2, K: 2, N: 3 },
};

const flags: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

function broadcastShape(x: number[], y: number[]): number[] {
  const n = Math.max(x.length, y.length);
  return Array.from({ length: n }, (_, i) => {
    const a = x[x.length - n + i] ?? 1;
    const b = y[y.length - n + i] ?? 1;
    if (a !== b && a !== 1 && b !== 1) throw new Error(`shapes ${x} and ${y} do not broadcast`);
    return Math.max(a, b);
  });
}

const prod = (s: number[]) => s.reduce((p, v) => p * v, 1);

/** Stored shapes of A and B for the flags. */
function storedShapes(c: Case, tA: boolean, tB: boolean): [number[], number[]] {
  return [
    [...c.batchA, ...(tA ? [c.K, c.M] : [c.M, c.K])],
    [...c.batchB, ...(tB ? [c.N, c.K] : [c.K, c.N])],
  ];
}

/** Flat offset of the batch index `out` (in the broadcast batch shape) inside a batch shape `own`. */
function batchOffset(out: number[], own: number[]): number {
  let offset = 0;
  const lead = out.length - own.length;
  for (let i = 0; i < own.length; i++) offset = offset * own[i] + (own[i] === 1 ? 0 : out[lead + i]);
  return offset;
}

/** Σ W ⊙ (op(A)·op(B)) in float64 by loops, broadcasting the batch dims. */
function referenceLoss(c: Case, tA: boolean, tB: boolean, A: Float64Array, B: Float64Array, W: Float64Array): number {
  const { M, K, N } = c;
  const batch = broadcastShape(c.batchA, c.batchB);
  let loss = 0;
  for (let flat = 0; flat < prod(batch); flat++) {
    const idx: number[] = [];
    for (let i = batch.length - 1, r = flat; i >= 0; i--) {
      idx[i] = r % batch[i];
      r = Math.floor(r / batch[i]);
    }
    const ao = batchOffset(idx, c.batchA) * M * K;
    const bo = batchOffset(idx, c.batchB) * K * N;
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A[ao + (tA ? k * M + m : m * K + k)] * B[bo + (tB ? n * K + k : k * N + n)];
        loss += W[(flat * M + m) * N + n] * s;
      }
  }
  return loss;
}

function finiteDifferences(f: (x: Float64Array) => number, x: Float64Array, h = 1e-4): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

interface Problem {
  aShape: number[];
  bShape: number[];
  outShape: number[];
  A: Float32Array;
  B: Float32Array;
  W: Float32Array;
}

function problem(c: Case, tA: boolean, tB: boolean, seed: number): Problem {
  const rng = new Rng(seed);
  const [aShape, bShape] = storedShapes(c, tA, tB);
  const outShape = [...broadcastShape(c.batchA, c.batchB), c.M, c.N];
  return {
    aShape,
    bShape,
    outShape,
    A: rng.normals(prod(aShape)),
    B: rng.normals(prod(bShape)),
    W: rng.normals(prod(outShape)),
  };
}

/** dA, dB of Σ W ⊙ matMul(A, B, tA, tB) with whatever BatchMatMul gradient is registered. */
async function tfGradients(
  p: Problem,
  tA: boolean,
  tB: boolean,
  broadcastFirst = false,
): Promise<[Float32Array, Float32Array]> {
  const a = tf.tensor(p.A, p.aShape);
  const b = tf.tensor(p.B, p.bShape);
  const w = tf.tensor(p.W, p.outShape);
  const batch = p.outShape.slice(0, -2);
  const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => {
    // tf.broadcastTo's own gradient sums over the axes it stretched.
    const xx = broadcastFirst ? tf.broadcastTo(x, [...batch, ...x.shape.slice(-2)]) : x;
    const yy = broadcastFirst ? tf.broadcastTo(y, [...batch, ...y.shape.slice(-2)]) : y;
    return tf.matMul(xx, yy, tA, tB).mul(w).sum();
  });
  const [da, db] = grads([a, b]);
  expect(da.shape).toEqual(p.aShape);
  expect(db.shape).toEqual(p.bShape);
  const out: [Float32Array, Float32Array] = [(await da.data()) as Float32Array, (await db.data()) as Float32Array];
  tf.dispose([a, b, w, da, db]);
  return out;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThanOrEqual(tol);
}

const isBroadcast = (c: Case) => c.batchA.length !== c.batchB.length || c.batchA.some((v, i) => v !== c.batchB[i]);

const grid = Object.entries(cases).flatMap(([name, c]) => flags.map(([tA, tB]) => ({ name, c, tA, tB })));

describe.each(['cpu', 'wasm'] as const)('fast BatchMatMul gradient on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });
  afterAll(() => useFastMatMulGradient(false));

  it.each(grid)('$name, transposeA $tA, transposeB $tB: equals the stock gradient', async ({ c, tA, tB }) => {
    const p = problem(c, tA, tB, 7);
    useFastMatMulGradient(false);
    // The stock gradient cannot handle broadcasting; give it explicitly broadcast operands instead.
    const [stockA, stockB] = await tfGradients(p, tA, tB, isBroadcast(c));
    useFastMatMulGradient(true);
    const [fastA, fastB] = await tfGradients(p, tA, tB);
    expectClose(fastA, stockA, 1e-5);
    expectClose(fastB, stockB, 1e-5);
  });

  it.each(grid)('$name, transposeA $tA, transposeB $tB: equals float64 finite differences', async ({ c, tA, tB }) => {
    const p = problem(c, tA, tB, 11);
    useFastMatMulGradient(true);
    const [fastA, fastB] = await tfGradients(p, tA, tB);
    const A = Float64Array.from(p.A);
    const B = Float64Array.from(p.B);
    const W = Float64Array.from(p.W);
    expectClose(
      fastA,
      finiteDifferences((x) => referenceLoss(c, tA, tB, x, B, W), A),
      1e-4,
    );
    expectClose(
      fastB,
      finiteDifferences((x) => referenceLoss(c, tA, tB, A, x, W), B),
      1e-4,
    );
  });
});

describe('tfjs 4.22 BatchMatMul broadcasting', () => {
  beforeAll(async () => {
    expect(await tf.setBackend('cpu')).toBe(true);
  });
  afterAll(() => useFastMatMulGradient(false));

  // Pins a tfjs bug: batch entries are paired by flat index modulo each operand's batch size.
  it.each([
    { a: [2, 3], b: [2, 1], exact: false },
    { a: [2, 1], b: [1, 3], exact: false },
    { a: [3], b: [2, 1], exact: false },
    { a: [2, 3], b: [1, 3], exact: true },
    { a: [2, 3], b: [3], exact: true },
    { a: [1], b: [4], exact: true },
    { a: [], b: [2, 2], exact: true },
  ])('batch $a × $b is computed correctly: $exact', async ({ a, b, exact }) => {
    const rng = new Rng(1);
    const aShape = [...a, 2, 2];
    const bShape = [...b, 2, 2];
    const out = [...broadcastShape(a, b), 2, 2];
    const x = tf.tensor(rng.normals(prod(aShape)), aShape);
    const y = tf.tensor(rng.normals(prod(bShape)), bShape);
    const diff = tf
      .matMul(x, y)
      .sub(tf.matMul(tf.broadcastTo(x, out), tf.broadcastTo(y, out)))
      .abs()
      .max();
    const wrong = (await diff.data())[0] > 1e-6;
    expect(matMulBroadcastIsExact(aShape, bShape)).toBe(exact);
    expect(wrong).toBe(!exact);
    if (!exact) {
      useFastMatMulGradient(true);
      expect(() => tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q).sum())([x, y])).toThrow(
        /broadcasts these batch dims wrongly/,
      );
    }
    tf.dispose([x, y, diff]);
  });
});

describe('switching gradients', () => {
  beforeAll(async () => {
    expect(await tf.setBackend('cpu')).toBe(true);
  });
  afterAll(() => useFastMatMulGradient(false));

  it('the stock gradient (tfjs 4.22) rejects a broadcast batch; the fast one does not', async () => {
    const p = problem(cases['B rank 2 under batched A'], false, false, 3);
    useFastMatMulGradient(false);
    expect(fastMatMulGradientActive()).toBe(false);
    await expect(tfGradients(p, false, false)).rejects.toThrow(/gradient of input 'b' has shape/);
    useFastMatMulGradient(true);
    expect(fastMatMulGradientActive()).toBe(true);
    await expect(tfGradients(p, false, false)).resolves.toHaveLength(2);
  });

  it('the fast gradient never runs a matMul with transpose flags', async () => {
    const stockKernel = tf.getKernel(tf.BatchMatMul, 'cpu');
    const seen: string[] = [];
    tf.unregisterKernel(tf.BatchMatMul, 'cpu');
    tf.registerKernel({
      ...stockKernel,
      kernelFunc: (args) => {
        const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
        seen.push(`${transposeA ? 'T' : 'N'}${transposeB ? 'T' : 'N'}`);
        return stockKernel.kernelFunc(args);
      },
    });
    try {
      for (const [tA, tB] of flags) {
        const p = problem(cases['rank 3'], tA, tB, 5);
        useFastMatMulGradient(true);
        seen.length = 0;
        await tfGradients(p, tA, tB);
        // the forward op keeps its flags; the two gradient products use none
        expect(seen).toEqual([`${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`, 'NN', 'NN']);
        useFastMatMulGradient(false);
        seen.length = 0;
        await tfGradients(p, tA, tB);
        expect(seen.slice(1).some((s) => s !== 'NN')).toBe(true);
      }
    } finally {
      tf.unregisterKernel(tf.BatchMatMul, 'cpu');
      tf.registerKernel(stockKernel);
    }
  });
});
