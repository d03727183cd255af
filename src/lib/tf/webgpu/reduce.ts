// Sums over rows in groups, in one dispatch: out[r, c] = Σ_q value(q·R + r, c) for a [M, C] value
// with M = Q·R rows. R = 1 is a column sum (a bias gradient); R = T sums a [B·T, C] gradient
// over the batch into a [T, C] table (a positional embedding's gradient).
import * as tf from '@tensorflow/tfjs';
import { groups, program, registerGpuKernel, run, runKernel, type GpuBackend, type GpuProgram } from './program';

const COLS = 32;
const LANES = 8;

export interface GroupSumSpec {
  key: string;
  inputs: string[];
  /** WGSL expression of the summed value at row `m`, column `c` */
  value: string;
  rows: number;
  cols: number;
  /** R: output rows */
  groups: number;
}

export function groupSumProgram(s: GroupSumSpec): GpuProgram {
  return program({
    key: `groupsum_${s.key}`,
    inputs: s.inputs,
    outputShape: [s.groups, s.cols],
    workgroups: s.groups * groups(s.cols, COLS),
    threads: COLS * LANES,
    uniforms: 'rows : i32, cols : i32, groups : i32,',
    code: `
  var<workgroup> partial : array<f32, ${COLS * LANES}>;
  fn valueAt(m : i32, c : i32) -> f32 { return ${s.value}; }
  fn main(index : i32) {
    let wg = workgroupIndex();
    let colBlocks = (uniforms.cols + ${COLS - 1}) / ${COLS};
    let r = wg / colBlocks;
    let c = (wg % colBlocks) * ${COLS} + i32(localId.x) % ${COLS};
    let lane = i32(localId.x) / ${COLS};
    let valid = r < uniforms.groups && c < uniforms.cols;
    let perGroup = uniforms.rows / uniforms.groups;
    var acc = 0.0;
    if (valid) {
      for (var q = lane; q < perGroup; q = q + ${LANES}) { acc = acc + valueAt(q * uniforms.groups + r, c); }
    }
    partial[i32(localId.x)] = acc;
    workgroupBarrier();
    if (lane == 0 && valid) {
      var total = 0.0;
      for (var l = 0; l < ${LANES}; l = l + 1) { total = total + partial[l * ${COLS} + i32(localId.x)]; }
      result[r * uniforms.cols + c] = total;
    }
  }`,
  });
}

export function groupSumUniforms(rows: number, cols: number, R: number) {
  return [
    { type: 'int32' as const, data: [rows] },
    { type: 'int32' as const, data: [cols] },
    { type: 'int32' as const, data: [R] },
  ];
}

const GROUP_SUM = 'FarmerGroupSum';

registerGpuKernel(GROUP_SUM, ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const R = attrs.groups as number;
  const C = x.shape[x.shape.length - 1];
  const M = tf.util.sizeFromShape(x.shape) / C;
  const prog = groupSumProgram({
    key: 'plain',
    inputs: ['xs'],
    value: 'xs[m * uniforms.cols + c]',
    rows: M,
    cols: C,
    groups: R,
  });
  return run(backend as GpuBackend, prog, [x], groupSumUniforms(M, C, R));
});

/** [M, C] (any leading shape) → [R, C]: rows summed in R interleaved groups (webgpu only). */
export function groupSum(x: tf.Tensor, R: number): tf.Tensor2D {
  const C = x.shape[x.rank - 1];
  const M = x.size / C;
  if (M % R !== 0) throw new Error(`groupSum: ${M} rows do not split into ${R} groups`);
  return runKernel<tf.Tensor2D>(GROUP_SUM, { x }, { groups: R });
}
