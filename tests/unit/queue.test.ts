import { describe, expect, it } from 'vitest';
import { JobQueue } from '../../src/engine/queue';
import { SpotterError } from '../../src/shared/errors';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('JobQueue', () => {
  it('runs jobs one at a time, in order', async () => {
    const queue = new JobQueue();
    const log: string[] = [];
    let running = 0;
    const job = (name: string, ms: number) => async () => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await sleep(ms);
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([queue.run('a', 1000, job('a', 30)), queue.run('b', 1000, job('b', 5)), queue.run('c', 1000, job('c', 1))]);
    expect(results).toEqual(['a', 'b', 'c']);
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
    const queue = new JobQueue();
    const slow = queue.run('Classifying the image', 20, () => sleep(500).then(() => 'late'));
    const after = queue.run('next', 1000, async () => 'next ran');
    const error = await slow.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpotterError);
    expect((error as SpotterError).code).toBe('timeout');
    expect((error as SpotterError).message).toMatch(/Classifying the image took longer than/);
    await expect(after).resolves.toBe('next ran');
  });

  it('counts pending jobs', async () => {
    const queue = new JobQueue();
    const a = queue.run('a', 1000, () => sleep(10));
    queue.run('b', 1000, () => sleep(10));
    expect(queue.size).toBe(2);
    await a;
    await sleep(30);
    expect(queue.size).toBe(0);
  });
});
