// AdamW (Loshchilov & Hutter): Adam moments with weight decay applied to the weights directly.
import * as tf from '@tensorflow/tfjs';
import { flatten, unflatten, type FlatLayout } from './flat';
import { fusedAvailable } from '../tf/webgpu/program';
import { adamMomentsGpu, adamWeightsGpu } from '../tf/webgpu/adamw';

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
  /** the step count, and the moments per variable while they are not flat */
  state: AdamWState = { step: 0, m: new Map(), v: new Map() };
  /** both moments as one [2, P] tensor in `layout` order, between flat steps */
  private flat: { key: string; layout: FlatLayout; moments: tf.Tensor2D } | null = null;
  private mask: { key: string; tensor: tf.Tensor1D } | null = null;

  constructor({ beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay = 0 }: AdamWOptions = {}) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  /** One update of every variable that has a gradient, at learning rate lr, tensor by tensor. */
  apply(vars: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void {
    this.splitMoments();
    const t = ++this.state.step;
    const c1 = 1 - this.beta1 ** t,
      c2 = 1 - this.beta2 ** t;
    for (const [name, g] of grads) {
      const w = vars.get(name);
      if (!w) throw new Error(`gradient for unknown variable ${name}`);
      const m0 = this.state.m.get(name),
        v0 = this.state.v.get(name);
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
   * The same update with the gradients as one flat vector in `layout` order (GPU backends,
   * flat.ts), times the clipping scale `clip`. The moments stay one [2, P] tensor (m; v) from step
   * to step; they are split per variable only when asked for (momentsByName, for the state file).
   * On webgpu two fused kernels do it (tf/webgpu/adamw.ts): one for both moments, then one per
   * parameter tensor reading its slice, so nothing is split or concatenated; elsewhere the same
   * rules as tensor ops.
   */
  applyFlat(vars: Map<string, tf.Variable>, layout: FlatLayout, g: tf.Tensor1D, lr: number, clip = 1): void {
    const unknown = layout.names.find((n) => !vars.has(n));
    if (unknown) throw new Error(`gradient for unknown variable ${unknown}`);
    const t = ++this.state.step;
    const c1 = 1 - this.beta1 ** t,
      c2 = 1 - this.beta2 ** t;
    const before = this.flatMoments(layout);
    if (fusedAvailable()) {
      const moments = tf.keep(adamMomentsGpu(before, g, this.beta1, this.beta2, clip));
      before.dispose();
      this.flat!.moments = moments;
      let offset = 0;
      layout.names.forEach((n, i) => {
        const w = vars.get(n)!;
        const keep = 1 - lr * (layout.shapes[i].length >= 2 ? this.weightDecay : 0);
        const next = adamWeightsGpu(w, moments, { offset, keep, lr, c1, c2, eps: this.eps });
        w.assign(next);
        next.dispose();
        offset += layout.sizes[i];
      });
      return;
    }
    const { moments, w } = tf.tidy(() => {
      const gs = clip === 1 ? g : g.mul(clip);
      const [m0, v0] = tf.unstack(before);
      const m = m0.mul(this.beta1).add(gs.mul(1 - this.beta1));
      const v = v0.mul(this.beta2).add(gs.square().mul(1 - this.beta2));
      const update = m.div(c1).div(v.div(c2).sqrt().add(this.eps));
      // decoupled decay on matrices only: w·(1 − lr·λ) there, w elsewhere
      const keep = this.decayMask(layout)
        .mul(-lr * this.weightDecay)
        .add(1);
      const w = flatten(layout, vars).mul(keep).sub(update.mul(lr));
      return { moments: tf.stack([m, v]) as tf.Tensor2D, w: unflatten(layout, w as tf.Tensor1D) };
    });
    before.dispose();
    this.flat!.moments = tf.keep(moments);
    layout.names.forEach((n, i) => {
      vars.get(n)!.assign(w[i]);
      w[i].dispose();
    });
  }

  /** The flat moments for `layout`, made from the per-variable ones (zeros where none yet) when the layout is new. */
  private flatMoments(layout: FlatLayout): tf.Tensor2D {
    const key = layout.names.join('\n');
    if (this.flat?.key !== key) {
      this.splitMoments();
      const moments = tf.tidy(
        () => tf.stack([flatten(layout, this.state.m, true), flatten(layout, this.state.v, true)]) as tf.Tensor2D,
      );
      for (const x of [...this.state.m.values(), ...this.state.v.values()]) x.dispose();
      this.state.m = new Map();
      this.state.v = new Map();
      this.flat = { key, layout, moments: tf.keep(moments) };
    }
    return this.flat!.moments;
  }

  /** Moves flat moments back into the per-variable maps. */
  private splitMoments(): void {
    if (!this.flat) return;
    const { layout, moments } = this.flat;
    const [m, v] = tf.tidy(() => tf.unstack(moments).map((row) => unflatten(layout, row as tf.Tensor1D)));
    layout.names.forEach((n, i) => {
      this.state.m.set(n, tf.keep(m[i]));
      this.state.v.set(n, tf.keep(v[i]));
    });
    moments.dispose();
    this.flat = null;
  }

  /** Both moments per variable (the state file's layout); flat ones are split now and rebuilt on the next flat step. */
  momentsByName(): { m: Map<string, tf.Tensor>; v: Map<string, tf.Tensor> } {
    this.splitMoments();
    return { m: this.state.m, v: this.state.v };
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
    this.flat?.moments.dispose();
    this.flat = null;
    for (const t of [...this.state.m.values(), ...this.state.v.values()]) t.dispose();
    this.state = { step: 0, m: new Map(), v: new Map() };
    this.mask?.tensor.dispose();
    this.mask = null;
  }
}
