import { describe, expect, it } from 'vitest';
import { backendRows } from '../../src/lib/runtime/backends';

describe('backend rows', () => {
  it('auto: explains the skipped, failed, active and untried backends in order', () => {
    const rows = backendRows({
      active: 'wasm',
      requested: 'auto',
      attempts: [
        { name: 'webgpu', tried: false, ok: false, reason: 'requestAdapter returned null' },
        { name: 'webgl', tried: true, ok: false, reason: 'setBackend returned false' },
        { name: 'wasm', tried: true, ok: true, reason: 'verified on WebAssembly' },
      ],
    });
    expect(rows.map((r) => [r.name, r.state, r.reason])).toEqual([
      ['webgpu', 'skipped', 'requestAdapter returned null'],
      ['webgl', 'failed', 'setBackend returned false'],
      ['wasm', 'active', 'verified on WebAssembly'],
      ['cpu', 'skipped', 'not tried: WebAssembly already works'],
    ]);
  });

  it('forced and working: the others were not tried because of the request', () => {
    const rows = backendRows({
      active: 'webgpu',
      requested: 'webgpu',
      attempts: [{ name: 'webgpu', tried: true, ok: true, reason: 'ok' }],
    });
    expect(rows[0]).toMatchObject({ state: 'active' });
    for (const r of rows.slice(1)) expect(r.reason).toBe('not tried: ?backend=webgpu was requested and works');
  });

  it('forced but failing: the fallback is active and the request shows its failure', () => {
    const rows = backendRows({
      active: 'webgl',
      requested: 'webgpu',
      attempts: [
        { name: 'webgpu', tried: false, ok: false, reason: 'navigator.gpu missing' },
        { name: 'webgl', tried: true, ok: true, reason: 'verified' },
      ],
    });
    expect(rows.map((r) => r.state)).toEqual(['skipped', 'active', 'skipped', 'skipped']);
    expect(rows[2].reason).toBe('not tried: WebGL already works');
  });
});
