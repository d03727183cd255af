import { describe, expect, it } from 'vitest';
import { backendFromSearch, hashPath, parseRoute, routeHref, searchWithBackend } from '../../src/app/router';

const ids = ['separation', 'logdet'];

describe('hash routes', () => {
  it('treats an empty hash, "#" and "#/" as the home page', () => {
    for (const h of ['', '#', '#/', '#//']) expect(parseRoute(h, ids)).toEqual({ page: 'home' });
  });

  it('routes a registered notebook id, with or without a trailing slash or query', () => {
    for (const h of ['#/logdet', '#/logdet/', '#logdet', '#/logdet?block=2'])
      expect(parseRoute(h, ids)).toEqual({ page: 'notebook', id: 'logdet' });
  });

  it('reports unknown and unregistered paths as not found, keeping the path', () => {
    expect(parseRoute('#/sensitivity', ids)).toEqual({ page: 'not-found', path: '/sensitivity' });
    expect(parseRoute('#/logdet/extra', ids)).toEqual({ page: 'not-found', path: '/logdet/extra' });
    expect(parseRoute('#/separation', [])).toEqual({ page: 'not-found', path: '/separation' });
  });

  it('normalises paths', () => {
    expect(hashPath('#/a/b/?x')).toBe('/a/b');
    expect(hashPath('#a')).toBe('/a');
  });

  it('builds hrefs that parse back to the same route', () => {
    for (const r of [
      { page: 'home' },
      { page: 'notebook', id: 'logdet' },
      { page: 'not-found', path: '/nope' },
    ] as const)
      expect(parseRoute(routeHref(r), ids)).toEqual(r);
  });
});

describe('?backend=', () => {
  it('forces a named backend, case-insensitively', () => {
    expect(backendFromSearch('?backend=wasm')).toEqual({ backend: 'wasm' });
    expect(backendFromSearch('?x=1&backend=WebGPU')).toEqual({ backend: 'webgpu' });
  });

  it('is auto when absent, empty or "auto"', () => {
    for (const s of ['', '?', '?backend=', '?backend=auto', '?other=1'])
      expect(backendFromSearch(s)).toEqual({ backend: 'auto' });
  });

  it('falls back to auto on an unknown name and keeps the bad value', () => {
    expect(backendFromSearch('?backend=cuda')).toEqual({ backend: 'auto', invalid: 'cuda' });
  });

  it('rewrites only the backend parameter', () => {
    expect(searchWithBackend('?x=1', 'webgl')).toBe('?x=1&backend=webgl');
    expect(searchWithBackend('?backend=wasm&x=1', 'cpu')).toBe('?backend=cpu&x=1');
    expect(searchWithBackend('?backend=wasm', 'auto')).toBe('');
  });
});
