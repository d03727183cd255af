// A notebook's view in the URL hash, both ways.
import { describe, expect, it } from 'vitest';
import { formatParam } from '../../src/lib/experiments/params';
import { notebookHash, parseNotebookHash, urlWithHash, type NotebookUrlState } from '../../src/lib/runtime/url-state';
import { backendFromSearch, parseRoute } from '../../src/app/router';

describe('notebook URL state', () => {
  it('reads notebook, model, seed and parameters', () => {
    expect(parseNotebookHash('#/separation?model=mnist-farmer&seed=3&alpha=0.5&depths=all')).toEqual({
      notebook: 'separation',
      model: 'mnist-farmer',
      seed: 3,
      params: { alpha: '0.5', depths: 'all' },
    });
    expect(parseNotebookHash('#/logdet')).toEqual({ notebook: 'logdet', model: null, seed: null, params: {} });
    expect(parseNotebookHash('#/')).toBeNull();
    expect(parseNotebookHash('')).toBeNull();
    expect(parseNotebookHash('#/logdet?seed=abc')!.seed).toBeNull();
  });

  it('round-trips: parse(format(state)) is the state, and format(parse(url)) is the canonical url', () => {
    const states: NotebookUrlState[] = [
      {
        notebook: 'separation',
        model: 'mnist-farmer',
        seed: 3,
        params: { alpha: '0.5', depths: '1,2,4', label: 'a b&c=d' },
      },
      { notebook: 'logdet', model: null, seed: 0, params: {} },
      { notebook: 'sensitivity', model: 'colored-mnist-farmer', seed: null, params: { T: '1,1.3', s: '0.9' } },
    ];
    for (const s of states) expect(parseNotebookHash(notebookHash(s))).toEqual(s);
    const url = '#/separation?model=m&seed=3&alpha=0.5&beta=2';
    expect(notebookHash(parseNotebookHash(url)!)).toBe(url);
    // Parameters are written in key order whatever order they were set in.
    expect(notebookHash({ notebook: 'x', model: null, seed: null, params: { b: '1', a: '2' } })).toBe('#/x?a=2&b=1');
  });

  it('keeps ?backend= before the hash, where the shell reads it, and the route still resolves', () => {
    const url = urlWithHash(
      { pathname: '/app/', search: '?backend=wasm' },
      notebookHash({ notebook: 'separation', model: 'm', seed: 1, params: { alpha: '0.5' } }),
    );
    expect(url).toBe('/app/?backend=wasm#/separation?model=m&seed=1&alpha=0.5');
    const parsed = new URL(url, 'http://x');
    expect(backendFromSearch(parsed.search).backend).toBe('wasm');
    expect(parseRoute(parsed.hash, ['separation'])).toEqual({ page: 'notebook', id: 'separation' });
  });

  it('writes parameters as the URL and --param read them back: lists comma-joined', () => {
    expect(formatParam(-0)).toBe('0');
    expect(formatParam(true)).toBe('true');
    expect(formatParam([0.8, 1, 1.3])).toBe('0.8,1,1.3');
  });
});
