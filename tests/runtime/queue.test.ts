// One experiment at a time: order, start callbacks, and tasks cancelled while they wait.
import { describe, expect, it } from 'vitest';
import { RunQueue } from '../../src/lib/runtime/queue';

function gate() {
  let release!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  return { opened, release };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('RunQueue', () => {
  it('runs tasks one at a time in order, announcing each start', async () => {
    const q = new RunQueue();
    const log: string[] = [];
    const g = gate();
    const a = q.enqueue(async () => (log.push('a runs'), await g.opened, 'A'), { onStart: () => log.push('a starts') });
    const b = q.enqueue(async () => (log.push('b runs'), 'B'), { onStart: () => log.push('b starts') });
    await tick();
    expect(log).toEqual(['a starts', 'a runs']);
    expect(q.waiting).toBe(1);
    g.release();
    expect(await Promise.all([a, b])).toEqual(['A', 'B']);
    expect(log).toEqual(['a starts', 'a runs', 'b starts', 'b runs']);
  });

  it('drops a task cancelled while it waits, and goes on after a failing task', async () => {
    const q = new RunQueue();
    const g = gate();
    const started: string[] = [];
    const a = q.enqueue(async () => (await g.opened, started.push('a'), Promise.reject(new Error('boom'))));
    const c = new AbortController();
    const b = q.enqueue(async () => started.push('b'), { signal: c.signal });
    const d = q.enqueue(async () => (started.push('d'), 'D'));
    c.abort();
    await expect(b).rejects.toMatchObject({ code: 'cancelled' });
    g.release();
    await expect(a).rejects.toThrow('boom');
    expect(await d).toBe('D');
    expect(started).toEqual(['a', 'd']);
    const already = new AbortController();
    already.abort();
    await expect(q.enqueue(async () => 1, { signal: already.signal })).rejects.toMatchObject({ code: 'cancelled' });
  });
});
