// AdamW (Loshchilov & Hutter): Adam moments with weight decay applied to the weights directly.
import * as tf from '@tensorflow/tfjs';

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

  constructor({ beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay = 0 }: AdamWOptions = {}) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  /** One update of every variable that has a gradient, at learning rate lr. */
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

  dispose(): void {
    for (const t of [...this.state.m.values(), ...this.state.v.values()]) t.dispose();
    this.state = { step: 0, m: new Map(), v: new Map() };
  }
}
