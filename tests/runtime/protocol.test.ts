import { describe, expect, it } from 'vitest';
import { parseRequest, RunError, toErrorEvent } from '../../src/lib/runtime/protocol';

const badRequest = (data: unknown) => {
  try {
    parseRequest(data);
  } catch (e) {
    expect(e).toBeInstanceOf(RunError);
    expect((e as RunError).code).toBe('bad-request');
    return (e as RunError).message;
  }
  throw new Error(`accepted ${JSON.stringify(data)}`);
};

describe('parseRequest', () => {
  it('accepts each well-formed request', () => {
    const ok = [
      { type: 'init', runId: 1, backend: 'auto' },
      { type: 'init', runId: 2, backend: 'wasm' },
      { type: 'listModels', runId: 3 },
      { type: 'listModels', runId: 4, indexUrl: '/other/index.json' },
      { type: 'loadModel', runId: 5, name: 'mnist-farmer' },
      { type: 'loadModel', runId: 6, bytes: new ArrayBuffer(8) },
      { type: 'cancel', runId: 7, target: 5 },
    ];
    for (const r of ok) expect(parseRequest(r)).toBe(r);
  });

  it('rejects malformed messages, naming the problem', () => {
    expect(badRequest(null)).toMatch(/not an object/);
    expect(badRequest({ type: 'train', runId: 1 })).toMatch(/unknown type "train"/);
    expect(badRequest({ type: 'init', backend: 'wasm' })).toMatch(/runId/);
    expect(badRequest({ type: 'init', runId: 1.5, backend: 'wasm' })).toMatch(/runId/);
    expect(badRequest({ type: 'init', runId: 1, backend: 'cuda' })).toMatch(/unknown backend "cuda"/);
    expect(badRequest({ type: 'loadModel', runId: 1 })).toMatch(/name or bytes/);
    expect(badRequest({ type: 'loadModel', runId: 1, name: '' })).toMatch(/name or bytes/);
    expect(badRequest({ type: 'loadModel', runId: 1, bytes: [1, 2] })).toMatch(/ArrayBuffer/);
    expect(badRequest({ type: 'cancel', runId: 1 })).toMatch(/target/);
  });
});

describe('toErrorEvent', () => {
  it('keeps a RunError code, maps AbortError to cancelled and anything else to internal', () => {
    expect(toErrorEvent(3, new RunError('malformed', 'bad json'))).toEqual({
      type: 'error',
      runId: 3,
      code: 'malformed',
      message: 'bad json',
    });
    expect(toErrorEvent(3, new DOMException('x', 'AbortError'))).toMatchObject({ code: 'cancelled' });
    expect(toErrorEvent(null, new TypeError('boom'))).toEqual({
      type: 'error',
      runId: null,
      code: 'internal',
      message: 'boom',
    });
    expect(toErrorEvent(1, 'plain')).toMatchObject({ code: 'internal', message: 'plain' });
  });
});
