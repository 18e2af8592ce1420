import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobQueue } from '../../src/engine/queue';
import { SpotterError } from '../../src/shared/errors';

/** A promise the test settles when it chooses. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets every callback already queued run (promise callbacks, then one macrotask turn). */
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

afterEach(() => {
  vi.useRealTimers();
});

describe('JobQueue', () => {
  it('runs jobs one at a time, in order', async () => {
    const queue = new JobQueue();
    const log: string[] = [];
    let running = 0;
    const gates = { a: gate(), b: gate(), c: gate() };
    const job = (name: keyof typeof gates) => async () => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await gates[name].promise;
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = Promise.all([queue.run('a', 1000, job('a')), queue.run('b', 1000, job('b')), queue.run('c', 1000, job('c'))]);
    await flush();
    expect(log).toEqual(['start a']);
    // The later jobs are ready first, and still wait for the one before them.
    gates.c.open();
    gates.b.open();
    await flush();
    expect(log).toEqual(['start a']);
    gates.a.open();
    expect(await results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('a failing job does not stop the queue', async () => {
    const queue = new JobQueue();
    const failed = queue.run('bad', 1000, () => Promise.reject(new Error('boom')));
    const next = queue.run('good', 1000, async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });

  it('a job over its timeout fails with a timeout error and the next job still runs', async () => {
    vi.useFakeTimers();
    const queue = new JobQueue();
    const late = gate<string>();
    const slow = queue.run('Classifying the image', 20, () => late.promise);
    const after = queue.run('next', 1000, async () => 'next ran');
    const outcome = slow.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    let settled = false;
    void outcome.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(19);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toBe(true);
    const { error } = (await outcome) as { error: unknown };
    expect(error).toBeInstanceOf(SpotterError);
    expect((error as SpotterError).code).toBe('timeout');
    expect((error as SpotterError).message).toMatch(/^Classifying the image took longer than 20 ms, so Spotter stopped waiting/);
    // The next job runs although the slow one never finished; its late result is dropped.
    await expect(after).resolves.toBe('next ran');
    late.open('late');
    await vi.advanceTimersByTimeAsync(0);
    expect(await outcome).toEqual({ error });
  });

  it('counts pending jobs', async () => {
    const queue = new JobQueue();
    const gates = [gate(), gate()];
    const a = queue.run('a', 1000, () => gates[0]!.promise);
    const b = queue.run('b', 1000, () => gates[1]!.promise);
    expect(queue.size).toBe(2);
    gates[0]!.open();
    await a;
    await flush();
    expect(queue.size).toBe(1);
    gates[1]!.open();
    await b;
    await flush();
    expect(queue.size).toBe(0);
  });
});
