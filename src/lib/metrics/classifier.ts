// The feature network of FID / IS / precision–recall: a small CNN classifier, one per dataset.
//
//   input  pixels/255, [B, 28, 28, C]; with `valueChannel`, max over C appended (HSV value: a
//          colour-independent view of the digit, whose polarity per RGB channel depends on colours)
//   conv1  3×3, C→32, same, ReLU, max-pool 2       → [B, 14, 14, 32]
//   conv2  3×3, 32→64, same, ReLU, max-pool 2      → [B, 7, 7, 64]
//   conv3  3×3, 64→128, same, ReLU                 → [B, 7, 7, 128]
//   fc     6272→128, ReLU                          = the features (FEATURE_DIM)
//   head.<name>  128→classes, one linear head per task (digit; fg_hue, bg_hue for Colored MNIST)
//
// Weights use tfjs layouts (conv [kh, kw, in, out], dense [in, out]) under the names above plus
// `.weight` / `.bias`; see docs/data.md for the file. wasm has no Conv2DBackpropFilter kernel and
// its Conv2DBackpropInput and transposed matmuls are slow, so convolutions and dense layers
// carry their own gradients, made of forward convolutions and plain matmuls.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/random';

export const FEATURE_DIM = 128;

export interface ClassifierSpec {
  height: number;
  width: number;
  channels: number;
  /** classes per head, e.g. { digit: 10 }; the first head gives the class probabilities of IS */
  heads: Record<string, number>;
  /** append max over channels to the input (default false) */
  valueChannel?: boolean;
}

type Shape = number[];

/** Every parameter with its shape, in file order. */
export function parameterShapes(spec: ClassifierSpec): [string, Shape][] {
  const flat = (spec.height >> 2) * (spec.width >> 2) * 128;
  const shapes: [string, Shape][] = [
    ['conv1.weight', [3, 3, spec.channels + (spec.valueChannel ? 1 : 0), 32]],
    ['conv1.bias', [32]],
    ['conv2.weight', [3, 3, 32, 64]],
    ['conv2.bias', [64]],
    ['conv3.weight', [3, 3, 64, 128]],
    ['conv3.bias', [128]],
    ['fc.weight', [flat, FEATURE_DIM]],
    ['fc.bias', [FEATURE_DIM]],
  ];
  for (const [name, k] of Object.entries(spec.heads))
    shapes.push([`head.${name}.weight`, [FEATURE_DIM, k]], [`head.${name}.bias`, [k]]);
  return shapes;
}

/** x·w with gradients through explicit transposes (wasm's transposed matmul is slow). */
const matmul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor2D, [a, b]: tf.Tensor[]) => [
      tf.matMul(dy, tf.transpose(b) as tf.Tensor2D),
      tf.matMul(tf.transpose(a) as tf.Tensor2D, dy),
    ],
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * 3×3 same convolution, stride 1. Gradients as forward convolutions:
 *   dx = conv(dy, w flipped in space with in/out swapped), same padding;
 *   dw[ky, kx, i, o] = Σ_{b,y,x} x_pad[b, y+ky, x+kx, i]·dy[b, y, x, o], a valid convolution of
 *   x_pad with channels as batch [C_in, H+2, W+2, B] by dy as the filter [H, W, B, C_out].
 * `inputGrad = false` returns a zero dx (the network's input needs none).
 */
function makeConv3x3(inputGrad: boolean) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, w, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([x, w]);
    return {
      value: tf.conv2d(x, w, 1, 'same'),
      gradFunc: (dy: tf.Tensor4D, [x, w]: tf.Tensor[]) => {
        const dx = inputGrad
          ? tf.conv2d(dy, tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D, 1, 'same')
          : tf.zerosLike(x);
        const xPad = tf.transpose(
          tf.pad(x, [
            [0, 0],
            [1, 1],
            [1, 1],
            [0, 0],
          ]),
          [3, 1, 2, 0],
        ) as tf.Tensor4D; // [C_in, H+2, W+2, B]
        const dyFilter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [H, W, B, C_out]
        const dw = tf.transpose(tf.conv2d(xPad, dyFilter, 1, 'valid'), [1, 2, 0, 3]); // [3, 3, C_in, C_out]
        return [dx, dw];
      },
    };
  }) as (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;
}

export const conv3x3 = makeConv3x3(true);
const conv3x3Input = makeConv3x3(false);

export class Classifier {
  constructor(
    readonly spec: ClassifierSpec,
    /** parameter name → variable (names are ours; tfjs names are left automatic, they are global) */
    readonly params: Map<string, tf.Variable>,
  ) {}

  get headNames(): string[] {
    return Object.keys(this.spec.heads);
  }

  private p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  /** uint8-valued pixels [B, H, W, C] (any dtype) → features [B, FEATURE_DIM]; `dropMask` scales them (training). */
  features(pixels: tf.Tensor4D, dropMask?: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const conv = (x: tf.Tensor4D, n: string, op = conv3x3) =>
        tf.relu(tf.add(op(x, this.p(`${n}.weight`) as tf.Tensor4D), this.p(`${n}.bias`))) as tf.Tensor4D;
      let x = tf.div(tf.cast(pixels, 'float32'), 255) as tf.Tensor4D;
      if (this.spec.valueChannel) x = tf.concat([x, tf.max(x, 3, true) as tf.Tensor4D], 3);
      x = tf.maxPool(conv(x, 'conv1', conv3x3Input), 2, 2, 'valid');
      x = tf.maxPool(conv(x, 'conv2'), 2, 2, 'valid');
      x = conv(x, 'conv3');
      const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
      const f = tf.relu(tf.add(matmul(flat, this.p('fc.weight') as tf.Tensor2D), this.p('fc.bias'))) as tf.Tensor2D;
      return dropMask ? tf.mul(f, dropMask) : f;
    });
  }

  /** features → logits of one head, [B, classes] */
  logits(features: tf.Tensor2D, head = this.headNames[0]): tf.Tensor2D {
    return tf.tidy(() =>
      tf.add(matmul(features, this.p(`head.${head}.weight`) as tf.Tensor2D), this.p(`head.${head}.bias`)),
    );
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

/** He-normal weights and zero biases, drawn from `rng`. */
export function createClassifier(spec: ClassifierSpec, rng: Rng): Classifier {
  const params = new Map<string, tf.Variable>();
  for (const [name, shape] of parameterShapes(spec)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 4 ? shape[0] * shape[1] * shape[2] : shape[0];
    const values = name.endsWith('.bias') ? new Float32Array(size) : rng.normals(size, Math.sqrt(2 / fanIn));
    params.set(name, tf.variable(tf.tensor(values, shape, 'float32')));
  }
  return new Classifier(spec, params);
}

/** A classifier from named float32 arrays (as read from a file); checks every name and shape. */
export function classifierFromArrays(
  spec: ClassifierSpec,
  arrays: Map<string, { shape: number[]; data: Float32Array }>,
): Classifier {
  const params = new Map<string, tf.Variable>();
  for (const [name, shape] of parameterShapes(spec)) {
    const a = arrays.get(name);
    if (!a) throw new Error(`feature network: missing tensor ${name}`);
    if (a.shape.join(',') !== shape.join(','))
      throw new Error(`feature network: ${name} has shape [${a.shape}], expected [${shape}]`);
    if (a.data.some((v) => !Number.isFinite(v))) throw new Error(`feature network: ${name} holds NaN or Inf`);
    params.set(name, tf.variable(tf.tensor(a.data, shape, 'float32'), false));
  }
  return new Classifier(spec, params);
}
