// WGSL shared by the fused kernels: exact GELU (WGSL has no erf) and workgroup reductions.
import * as tf from '@tensorflow/tfjs';

const { ERF_P, ERF_A1, ERF_A2, ERF_A3, ERF_A4, ERF_A5 } = tf.backend_util;

/**
 * erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), the approximation tfjs's own Erf kernels
 * use; gelu(u) = 0.5·u·(1 + erf(u/√2)) and its derivative Φ(u) + u·φ(u).
 */
export const GELU = `
  fn erfApprox(v : f32) -> f32 {
    let a = abs(v);
    let t = 1.0 / (1.0 + ${ERF_P} * a);
    let poly = t * (${ERF_A1} + t * (${ERF_A2} + t * (${ERF_A3} + t * (${ERF_A4} + t * ${ERF_A5}))));
    return sign(v) * (1.0 - poly * exp(-a * a));
  }
  fn gelu(u : f32) -> f32 {
    return 0.5 * u * (1.0 + erfApprox(u * 0.7071067811865476));
  }
  fn geluGrad(u : f32) -> f32 {
    return 0.5 * (1.0 + erfApprox(u * 0.7071067811865476)) + u * 0.3989422804014327 * exp(-0.5 * u * u);
  }`;

/**
 * A sum over the `threads` threads of a workgroup; every thread must call it (it has barriers),
 * from uniform control flow.
 */
export function workgroupSum(threads: number): string {
  return `
  var<workgroup> reduceBuf : array<f32, ${threads}>;
  fn workgroupSum(v : f32, tid : i32) -> f32 {
    reduceBuf[tid] = v;
    workgroupBarrier();
    for (var s = ${threads >> 1}; s > 0; s = s >> 1) {
      if (tid < s) { reduceBuf[tid] = reduceBuf[tid] + reduceBuf[tid + s]; }
      workgroupBarrier();
    }
    let total = reduceBuf[0];
    workgroupBarrier();
    return total;
  }`;
}
