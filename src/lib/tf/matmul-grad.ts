// A BatchMatMul gradient built from explicit transposes and plain matMuls. tfjs's own gradient
// passes transposeA/transposeB to matMul, which the wasm backend runs 12–25× slower; it also
// fails when the forward op broadcast its batch dimensions, which this one sums over.
// tfjs 4.22's BatchMatMul kernels pair batch entries by flat index modulo each operand's batch
// size, so the forward op itself is wrong unless each operand's batch shape is 1s followed by
// the trailing batch dims of the result; this gradient refuses the other shapes.
import * as tf from '@tensorflow/tfjs';

/** Swaps the last two axes. */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}

/** op(x)·op(y), where op transposes the last two axes when its flag is set, done explicitly. */
function product(x: tf.Tensor, tx: boolean, y: tf.Tensor, ty: boolean): tf.Tensor {
  return tf.matMul(tx ? swapLast(x) : x, ty ? swapLast(y) : y);
}

/** The broadcast batch size of op(x)·op(y). */
function batchSize(x: tf.Tensor, y: tf.Tensor): number {
  const xs = x.shape.slice(0, -2).reverse();
  const ys = y.shape.slice(0, -2).reverse();
  let n = 1;
  for (let i = 0; i < Math.max(xs.length, ys.length); i++) n *= Math.max(xs[i] ?? 1, ys[i] ?? 1);
  return n;
}

/** (op(x)·op(y))ᵀ, as op(y)ᵀ·op(x)ᵀ or as a transposed product, whichever transposes fewer numbers. */
function productT(x: tf.Tensor, tx: boolean, y: tf.Tensor, ty: boolean): tf.Tensor {
  const rows = x.shape[x.rank - (tx ? 1 : 2)];
  const cols = y.shape[y.rank - (ty ? 2 : 1)];
  const swapped = (tx ? 0 : x.size) + (ty ? 0 : y.size);
  const afterwards = (tx ? x.size : 0) + (ty ? y.size : 0) + batchSize(x, y) * rows * cols;
  return swapped <= afterwards ? product(y, !ty, x, !tx) : swapLast(product(x, tx, y, ty));
}

/**
 * Whether tfjs 4.22 multiplies these batch shapes correctly: each operand's batch shape, padded
 * with leading 1s, must be 1s followed by the same trailing dims as the broadcast batch shape.
 */
export function matMulBroadcastIsExact(aShape: readonly number[], bShape: readonly number[]): boolean {
  const a = aShape.slice(0, -2);
  const b = bShape.slice(0, -2);
  const n = Math.max(a.length, b.length);
  const pad = (s: number[]) => [...Array<number>(n - s.length).fill(1), ...s];
  const [pa, pb] = [pad(a), pad(b)];
  const out = pa.map((v, i) => Math.max(v, pb[i]));
  const exact = (s: number[]) => {
    let i = 0;
    while (i < n && s[i] === 1) i++;
    return s.slice(i).every((v, j) => v === out[i + j]);
  };
  return exact(pa) && exact(pb);
}

/** Sums g over the batch axes that broadcasting added or stretched, giving it `shape`. */
function unbroadcast(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank - 2; i++) if (i < lead || shape[i - lead] === 1) axes.push(i);
  return g.sum(axes).reshape(shape);
}

/** C = op(A)·op(B); dA and dB from dC, for every transposeA/transposeB combination. */
const fastGradient: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
    const [a, b] = saved;
    const g = dy as tf.Tensor;
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    if (!matMulBroadcastIsExact(a.shape, b.shape))
      throw new Error(
        `matMul of [${a.shape}] and [${b.shape}]: tfjs broadcasts these batch dims wrongly; tf.broadcastTo the operands first`,
      );
    return {
      // dop(A) = dC·op(B)ᵀ; dA is that, transposed back when A was.
      a: () =>
        unbroadcast(transposeA ? productT(g, false, b, !transposeB) : product(g, false, b, !transposeB), a.shape),
      // dop(B) = op(A)ᵀ·dC; dB likewise.
      b: () =>
        unbroadcast(transposeB ? productT(a, !transposeA, g, false) : product(a, !transposeA, g, false), b.shape),
    };
  },
};

const stockGradient: tf.GradConfig = tf.getGradient(tf.BatchMatMul);
let fast = false;

/** Registers this module's BatchMatMul gradient (true) or tfjs's own (false), globally. */
export function useFastMatMulGradient(on: boolean): void {
  tf.registerGradient(on ? fastGradient : stockGradient);
  fast = on;
}

export function fastMatMulGradientActive(): boolean {
  return fast;
}
