// Patchify (docs/model.md, "Patchify"): [B,H,W,C] ↔ [B,N,d], tokens in raster order, channel-major inside a token
// (index c·p² + r·p + s, the layout of PyTorch `unfold`).
import * as tf from '@tensorflow/tfjs';

export function patchify(x: tf.Tensor4D, p: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    const h = H / p,
      w = W / p;
    const rows = x.reshape([B * h, p, w, p * C]).transpose([0, 2, 1, 3]); // [B·h, w, r, s·C]
    const tokens = rows.reshape([B * h * w, p * p, C]).transpose([0, 2, 1]); // [B·h·w, C, r·p+s]
    return tokens.reshape([B, h * w, C * p * p]);
  });
}

export function unpatchify(z: tf.Tensor3D, p: number, H: number, W: number, C: number): tf.Tensor4D {
  return tf.tidy(() => {
    const B = z.shape[0];
    const h = H / p,
      w = W / p;
    const tokens = z.reshape([B * h * w, C, p * p]).transpose([0, 2, 1]); // [B·h·w, r·p+s, C]
    const rows = tokens.reshape([B * h, w, p, p * C]).transpose([0, 2, 1, 3]); // [B·h, r, w, s·C]
    return rows.reshape([B, H, W, C]);
  });
}
