// The cache key pins every component of a run, and not the order parameters were written in;
// without IndexedDB the cache misses quietly.
import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJSON, noCache, openResultCache, type CacheKeyParts } from '../../src/lib/runtime/cache';

const base: CacheKeyParts = {
  modelHash: 'ab12',
  cellId: 'separation',
  params: { alpha: 0.5, depths: 'all', images: 2 },
  seed: 3,
  codeVersion: 1,
};

describe('cacheKey', () => {
  it('is the same for the same parameters in any key order', () => {
    expect(cacheKey({ ...base, params: { images: 2, depths: 'all', alpha: 0.5 } })).toBe(cacheKey(base));
    expect(canonicalJSON({ b: { y: 1, x: [2, { d: 1, c: 0 }] }, a: true })).toBe(
      '{"a":true,"b":{"x":[2,{"c":0,"d":1}],"y":1}}',
    );
  });

  it('changes with each component', () => {
    const key = cacheKey(base);
    const variants: CacheKeyParts[] = [
      { ...base, modelHash: 'ab13' },
      { ...base, cellId: 'separation-grid' },
      { ...base, params: { ...base.params, alpha: 0.25 } },
      { ...base, params: { ...base.params, extra: 1 } },
      { ...base, params: { ...base.params, images: '2' } },
      { ...base, seed: 4 },
      { ...base, seed: null },
      { ...base, codeVersion: 2 },
    ];
    const keys = variants.map(cacheKey);
    for (const k of keys) expect(k).not.toBe(key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('treats -0 as 0 and leaves out undefined fields', () => {
    expect(cacheKey({ ...base, params: { a: -0, b: undefined } })).toBe(cacheKey({ ...base, params: { a: 0 } }));
  });
});

describe('result cache without IndexedDB', () => {
  it('misses, stores nothing and does not throw', async () => {
    for (const cache of [openResultCache(undefined), noCache]) {
      expect(cache.available).toBe(false);
      expect(await cache.put('k', { result: 1, params: {}, elapsedMs: 1, storedAt: 0 })).toBe(false);
      expect(await cache.get('k')).toBeUndefined();
      await cache.clear();
    }
  });

  it('turns itself off when the database cannot be opened', async () => {
    const refusing = {
      open: () => {
        throw new DOMException('denied', 'SecurityError');
      },
    } as unknown as IDBFactory;
    const cache = openResultCache(refusing);
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.available).toBe(false);
    expect(await cache.put('k', { result: 1, params: {}, elapsedMs: 1, storedAt: 0 })).toBe(false);
  });
});
