// The plumbing every fused kernel shares: a WGSL compute program in the shape tfjs-backend-webgpu
// runs (its WebGPUProgram interface: the package binds `result` and each input by name, and the
// shapes as uniforms), registered as a tfjs kernel of the webgpu backend, and run through
// tf.engine() so that tf.profile, tidy and the gradient tape see it like any built-in kernel.
import * as tf from '@tensorflow/tfjs';

/** A tfjs-backend-webgpu program (its WebGPUProgram interface, which the package does not export). */
export interface GpuProgram {
  variableNames: string[];
  outputShape: number[];
  /** tfjs appends the ranks and dtypes; everything baked into the code must be in it */
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** extra uniform fields, WGSL struct syntax: `pos : i32, scale : f32,` */
  uniforms?: string;
  getUserCode: () => string;
}

export interface Uniform {
  type: 'int32' | 'float32';
  data: number[];
}

/** What the fused kernels use of the webgpu backend. */
export interface GpuBackend {
  runWebGPUProgram(
    program: GpuProgram,
    inputs: tf.TensorInfo[],
    dtype: tf.DataType,
    uniforms?: Uniform[],
    output?: tf.TensorInfo,
  ): tf.TensorInfo;
  incRef(dataId: tf.DataId): void;
  device: {
    limits: {
      maxComputeWorkgroupStorageSize: number;
      maxStorageBuffersPerShaderStage: number;
      maxStorageBufferBindingSize: number;
    };
  };
}

export interface ProgramSpec {
  /** names of the input arrays in the WGSL code, in the order the inputs are passed */
  inputs: string[];
  outputShape: number[];
  /** workgroups to launch; kernels must ignore the extra ones tfjs adds when it folds a large count into 2-D */
  workgroups: number;
  /** threads per workgroup (1-D) */
  threads: number;
  key: string;
  uniforms?: string;
  /** the body: functions and `fn main(index : i32)` (index = global thread index) */
  code: string;
}

/** WGSL shared by every program here: the flat workgroup index and the thread within it. */
export const WORKGROUP_INDEX = `
  fn workgroupIndex() -> i32 {
    return i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
  }`;

export function program(spec: ProgramSpec): GpuProgram {
  return {
    variableNames: spec.inputs,
    outputShape: spec.outputShape,
    shaderKey: `farmer_${spec.key}`,
    dispatchLayout: { x: spec.outputShape.map((_, i) => i) },
    dispatch: [Math.max(1, spec.workgroups), 1, 1],
    workgroupSize: [spec.threads, 1, 1],
    uniforms: spec.uniforms,
    getUserCode: () => `${WORKGROUP_INDEX}\n${spec.code}`,
  };
}

/** Runs `prog` on the webgpu backend; with `into`, writes that existing tensor's buffer instead of a new one. */
export function run(
  backend: GpuBackend,
  prog: GpuProgram,
  inputs: tf.TensorInfo[],
  uniforms: Uniform[] = [],
  into?: tf.TensorInfo,
): tf.TensorInfo {
  return backend.runWebGPUProgram(prog, inputs, 'float32', uniforms, into);
}

/**
 * The result of a kernel that updated `target` in place (a KV cache, a token buffer): tfjs gets
 * the same buffer back under a new tensor, as its own Reshape kernel does, so disposing the old
 * tensor keeps the data alive. Only for buffers the caller owns and reads nowhere else.
 */
export function sameBuffer(backend: GpuBackend, target: tf.TensorInfo): tf.TensorInfo {
  backend.incRef(target.dataId);
  return { dataId: target.dataId, shape: target.shape, dtype: target.dtype };
}

type KernelFunc = (args: {
  inputs: tf.NamedTensorInfoMap;
  backend: GpuBackend;
  attrs: tf.NamedAttrMap;
}) => tf.TensorInfo;

/** Registers `name` for the webgpu backend (once; module loads may repeat in tests). */
export function registerGpuKernel(name: string, kernelFunc: KernelFunc): void {
  if (tf.getKernel(name, 'webgpu')) return;
  tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

export function registerGpuGradient(config: tf.GradConfig): void {
  if (tf.getGradient(config.kernelName)) return;
  tf.registerGradient(config);
}

/** Runs a registered fused kernel through the engine (profiled, taped, tidied like a built-in one). */
export function runKernel<T extends tf.Tensor = tf.Tensor>(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: tf.NamedAttrMap = {},
): T {
  return tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs) as T;
}

/** Whether the fused kernels can run: the active backend is webgpu. */
export function fusedAvailable(): boolean {
  return tf.getBackend() === 'webgpu';
}

/** The webgpu backend's device limits (for width and shared-memory checks). */
export function gpuLimits(): GpuBackend['device']['limits'] | null {
  if (!fusedAvailable()) return null;
  return (tf.backend() as unknown as GpuBackend).device?.limits ?? null;
}

/** Shared memory one workgroup may use, in f32 values (16 KiB by default). */
export function sharedFloats(): number {
  return Math.floor((gpuLimits()?.maxComputeWorkgroupStorageSize ?? 16384) / 4);
}

/** Workgroups needed for n items at `per` items each. */
export const groups = (n: number, per: number) => Math.ceil(n / per);
