// A tiled matrix product with hooks for what the fused kernels fold around it:
// C[i, j] = store(i, j, epilogue(i, j, Σ_t loadA(i, t)·loadB(t, j))) for i < M, j < N, t < K.
// 32×32 output tiles, 16×16 threads of 2×2 outputs, K in steps of 16 through shared memory.
import { program, type GpuProgram } from './program';

export const TILE = 32;
const TK = 16;

export interface MatmulSpec {
  key: string;
  inputs: string[];
  outputShape: number[];
  M: number;
  N: number;
  /** WGSL function bodies; `r` is i − (first row of the tile), for per-row data the prologue kept */
  loadA: string; // fn loadA(i : i32, t : i32, r : i32) -> f32
  loadB: string; // fn loadB(t : i32, j : i32) -> f32
  epilogue?: string; // fn epilogue(i : i32, j : i32, v : f32) -> f32
  store?: string; // fn store(i : i32, j : i32, v : f32)
  /** WGSL run by every thread before the product (may use barriers); sees row0 and tid */
  prologue?: string;
  /** extra module-scope WGSL (helpers, workgroup arrays) */
  helpers?: string;
  /** extra uniforms beyond m, n, k */
  uniforms?: string;
}

export function matmulProgram(s: MatmulSpec): GpuProgram {
  const tilesM = Math.ceil(s.M / TILE),
    tilesN = Math.ceil(s.N / TILE);
  return program({
    key: `mm_${s.key}`,
    inputs: s.inputs,
    outputShape: s.outputShape,
    workgroups: tilesM * tilesN,
    threads: 256,
    uniforms: `m : i32, n : i32, k : i32, ${s.uniforms ?? ''}`,
    code: `
  var<workgroup> tileA : array<f32, ${TILE * TK}>;
  var<workgroup> tileB : array<f32, ${TK * TILE}>;
  ${s.helpers ?? ''}
  fn loadA(i : i32, t : i32, r : i32) -> f32 { ${s.loadA} }
  fn loadB(t : i32, j : i32) -> f32 { ${s.loadB} }
  fn epilogue(i : i32, j : i32, v : f32) -> f32 { ${s.epilogue ?? 'return v;'} }
  fn store(i : i32, j : i32, v : f32) { ${s.store ?? 'result[i * uniforms.n + j] = v;'} }
  fn main(index : i32) {
    let wg = workgroupIndex();
    let tilesN = (uniforms.n + ${TILE - 1}) / ${TILE};
    let row0 = (wg / tilesN) * ${TILE};
    let col0 = (wg % tilesN) * ${TILE};
    let tid = i32(localId.x);
    let ty = tid / 16;
    let tx = tid % 16;
    ${s.prologue ?? ''}
    var c00 = 0.0; var c01 = 0.0; var c10 = 0.0; var c11 = 0.0;
    let steps = (uniforms.k + ${TK - 1}) / ${TK};
    for (var kt = 0; kt < steps; kt = kt + 1) {
      for (var q = 0; q < 2; q = q + 1) {
        let e = tid * 2 + q;
        let ar = e / ${TK};
        let at = e % ${TK};
        var av = 0.0;
        if (row0 + ar < uniforms.m && kt * ${TK} + at < uniforms.k) { av = loadA(row0 + ar, kt * ${TK} + at, ar); }
        tileA[e] = av;
        let bt = e / ${TILE};
        let bc = e % ${TILE};
        var bv = 0.0;
        if (kt * ${TK} + bt < uniforms.k && col0 + bc < uniforms.n) { bv = loadB(kt * ${TK} + bt, col0 + bc); }
        tileB[e] = bv;
      }
      workgroupBarrier();
      for (var t = 0; t < ${TK}; t = t + 1) {
        let a0 = tileA[(ty * 2) * ${TK} + t];
        let a1 = tileA[(ty * 2 + 1) * ${TK} + t];
        let b0 = tileB[t * ${TILE} + tx * 2];
        let b1 = tileB[t * ${TILE} + tx * 2 + 1];
        c00 = c00 + a0 * b0; c01 = c01 + a0 * b1;
        c10 = c10 + a1 * b0; c11 = c11 + a1 * b1;
      }
      workgroupBarrier();
    }
    let i0 = row0 + ty * 2;
    let j0 = col0 + tx * 2;
    if (i0 < uniforms.m && j0 < uniforms.n) { store(i0, j0, epilogue(i0, j0, c00)); }
    if (i0 < uniforms.m && j0 + 1 < uniforms.n) { store(i0, j0 + 1, epilogue(i0, j0 + 1, c01)); }
    if (i0 + 1 < uniforms.m && j0 < uniforms.n) { store(i0 + 1, j0, epilogue(i0 + 1, j0, c10)); }
    if (i0 + 1 < uniforms.m && j0 + 1 < uniforms.n) { store(i0 + 1, j0 + 1, epilogue(i0 + 1, j0 + 1, c11)); }
  }`,
  });
}

export function matmulUniforms(M: number, N: number, K: number) {
  return [
    { type: 'int32' as const, data: [M] },
    { type: 'int32' as const, data: [N] },
    { type: 'int32' as const, data: [K] },
  ];
}

/**
 * Prologue WGSL: mean and 1/√(var + eps) of the tile's rows of `src` ([rows, uniforms.k]), eight
 * threads to a row, kept in rowMean/rowRstd for loadA (row r of the tile).
 */
export function tileRowStats(src: string, rowOf: string): { helpers: string; prologue: string } {
  return {
    helpers: `
  var<workgroup> rowMean : array<f32, ${TILE}>;
  var<workgroup> rowRstd : array<f32, ${TILE}>;
  var<workgroup> rowPart : array<f32, 256>;`,
    prologue: `
    {
      let sr = tid / 8;
      let lane = tid % 8;
      let srcRow = ${rowOf.replace(/\bI\b/g, 'row0 + sr')};
      let rowOk = row0 + sr < uniforms.m;
      var s = 0.0;
      if (rowOk) { for (var c = lane; c < uniforms.k; c = c + 8) { s = s + ${src}[srcRow * uniforms.k + c]; } }
      rowPart[tid] = s;
      workgroupBarrier();
      if (lane == 0) {
        var t = 0.0;
        for (var l = 0; l < 8; l = l + 1) { t = t + rowPart[tid + l]; }
        rowMean[sr] = t / f32(uniforms.k);
      }
      workgroupBarrier();
      let mean = rowMean[sr];
      var q = 0.0;
      if (rowOk) { for (var c = lane; c < uniforms.k; c = c + 8) { let d = ${src}[srcRow * uniforms.k + c] - mean; q = q + d * d; } }
      rowPart[tid] = q;
      workgroupBarrier();
      if (lane == 0) {
        var t = 0.0;
        for (var l = 0; l < 8; l = l + 1) { t = t + rowPart[tid + l]; }
        rowRstd[sr] = 1.0 / sqrt(t / f32(uniforms.k) + uniforms.eps);
      }
      workgroupBarrier();
    }`,
  };
}
