// AdamW (Loshchilov & Hutter): Adam moments with weight decay applied to the weights directly.
import * as tf from '@tensorflow/tfjs';
import { flatten, unflatten, type FlatLayout } from './flat';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** decoupled decay, applied to matrices only (not biases, norms, or 1-D tables) */
  weightDecay?: number;
}

export interface AdamWState {
  step: number;
  m: Map<string, tf.Tensor>;
  v: Map<string, tf.Tensor>;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  state: AdamWState = { step: 0, m: new Map(), v: new Map() };
  private mask: { key: string; tensor: tf.Tensor1D } | null = null;

  constructor({ beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay = 0 }: AdamWOptions = {}) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  /** One update of every variable that has a gradient, at learning rate lr, tensor by tensor. */
  apply(vars: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void {
    const t = ++this.state.step;
    const c1 = 1 - this.beta1 ** t, c2 = 1 - this.beta2 ** t;
    for (const [name, g] of grads) {
      const w = vars.get(name);
      if (!w) throw new Error(`gradient for unknown variable ${name}`);
      const m0 = this.state.m.get(name), v0 = this.state.v.get(name);
      const [m, v] = tf.tidy(() => [
        (m0 ?? tf.zerosLike(g)).mul(this.beta1).add(g.mul(1 - this.beta1)),
        (v0 ?? tf.zerosLike(g)).mul(this.beta2).add(g.square().mul(1 - this.beta2)),
      ]);
      m0?.dispose();
      v0?.dispose();
      this.state.m.set(name, m);
      this.state.v.set(name, v);
      const decay = w.rank >= 2 ? this.weightDecay : 0;
      const next = tf.tidy(() => {
        const update = m.div(c1).div(v.div(c2).sqrt().add(this.eps));
        return w.mul(1 - lr * decay).sub(update.mul(lr));
      });
      w.assign(next);
      next.dispose();
    }
  }

  /**
   * The same update with the gradients as one flat vector in `layout` order, for GPU backends
   * (flat.ts): moments and weights are updated as flat vectors too, then split back per variable.
   */
  applyFlat(vars: Map<string, tf.Variable>, layout: FlatLayout, g: tf.Tensor1D, lr: number): void {
    const t = ++this.state.step;
    const c1 = 1 - this.beta1 ** t, c2 = 1 - this.beta2 ** t;
    const unknown = layout.names.find((n) => !vars.has(n));
    if (unknown) throw new Error(`gradient for unknown variable ${unknown}`);
    const { m, v, w } = tf.tidy(() => {
      // moments start at zero, for every variable on the first step
      const m = flatten(layout, this.state.m, true).mul(this.beta1).add(g.mul(1 - this.beta1));
      const v = flatten(layout, this.state.v, true).mul(this.beta2).add(g.square().mul(1 - this.beta2));
      const update = m.div(c1).div(v.div(c2).sqrt().add(this.eps));
      // decoupled decay on matrices only: w·(1 − lr·λ) there, w elsewhere
      const keep = this.decayMask(layout).mul(-lr * this.weightDecay).add(1);
      const w = flatten(layout, vars).mul(keep).sub(update.mul(lr));
      return { m: unflatten(layout, m as tf.Tensor1D), v: unflatten(layout, v as tf.Tensor1D), w: unflatten(layout, w as tf.Tensor1D) };
    });
    layout.names.forEach((n, i) => {
      this.state.m.get(n)?.dispose();
      this.state.v.get(n)?.dispose();
      this.state.m.set(n, m[i]);
      this.state.v.set(n, v[i]);
      vars.get(n)!.assign(w[i]);
      w[i].dispose();
    });
  }

  /** [Σ sizes]: 1 on the entries of matrices (rank ≥ 2), 0 on biases, norms and 1-D tables. */
  private decayMask(layout: FlatLayout): tf.Tensor1D {
    const key = layout.names.join('\n');
    if (this.mask?.key !== key) {
      this.mask?.tensor.dispose();
      const values = new Float32Array(layout.sizes.reduce((a, b) => a + b, 0));
      let offset = 0;
      layout.sizes.forEach((size, i) => {
        if (layout.shapes[i].length >= 2) values.fill(1, offset, offset + size);
        offset += size;
      });
      this.mask = { key, tensor: tf.keep(tf.tensor1d(values)) };
    }
    return this.mask.tensor;
  }

  dispose(): void {
    for (const t of [...this.state.m.values(), ...this.state.v.values()]) t.dispose();
    this.state = { step: 0, m: new Map(), v: new Map() };
    this.mask?.tensor.dispose();
    this.mask = null;
  }
}
