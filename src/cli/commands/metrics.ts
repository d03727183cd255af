// `farmer metrics fid a.npy b.npy [--json]`: the Fréchet distance of two float32 [n, f] feature arrays.
import { UsageError } from '../args';
import type { CommandContext } from '../main';
import { readNpyFile } from '../../node/files';
import { fid } from '../../lib/metrics/fid';

export const usage = `farmer metrics fid <a.npy> <b.npy> [--json]
  Fréchet distance of two feature arrays [n, f] (float; n ≥ 2 each, the same f):
  ‖μa − μb‖² + tr Σa + tr Σb − 2 tr √(Σa^½ Σb Σa^½), covariances normalised by n − 1.
  --json   print {"fid", "n_a", "n_b", "dims"}`;

async function readFeatures(path: string): Promise<{ data: Float32Array; n: number; dims: number }> {
  const array = await readNpyFile(path);
  if (!array.dtype.includes('f')) throw new Error(`${path}: dtype ${array.dtype} is not a float array`);
  if (array.shape.length !== 2)
    throw new Error(`${path}: expected a rank-2 array [n, f], got shape [${array.shape.join(', ')}]`);
  const [n, dims] = array.shape;
  if (n < 2) throw new Error(`${path}: needs at least 2 feature vectors, got ${n}`);
  if (dims < 1) throw new Error(`${path}: feature dimension is 0`);
  const data = array.data as Float32Array;
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new Error(
      `${path}: ${Number.isNaN(data[bad]) ? 'NaN' : 'Inf'} at row ${Math.floor(bad / dims)}, column ${bad % dims}`,
    );
  return { data, n, dims };
}

export async function run(ctx: CommandContext): Promise<void> {
  ctx.flags.str('backend'); // accepted by every command; this one computes in JavaScript
  ctx.flags.finish();
  const [metric, ...files] = ctx.flags.positionals;
  if (metric !== 'fid')
    throw new UsageError(metric ? `unknown metric "${metric}" (available: fid)` : 'missing metric (available: fid)');
  if (files.length !== 2) throw new UsageError(`metrics fid takes two .npy files, got ${files.length}`);
  const a = await readFeatures(files[0]);
  const b = await readFeatures(files[1]);
  if (a.dims !== b.dims)
    throw new Error(`feature dimensions differ: ${files[0]} has ${a.dims}, ${files[1]} has ${b.dims}`);
  const value = fid(a.data, a.n, b.data, b.n, a.dims);
  if (ctx.json) ctx.out(JSON.stringify({ fid: value, n_a: a.n, n_b: b.n, dims: a.dims }));
  else ctx.out(String(value));
}
