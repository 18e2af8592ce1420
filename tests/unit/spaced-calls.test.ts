import { describe, expect, it } from 'vitest';
import { spacedCalls } from '../../src/background/spaced-calls';

describe('spacedCalls (screen captures within Chrome\'s two-a-second quota)', () => {
  it('runs calls one at a time, each starting at least the spacing after the previous one ended, failed ones too', async () => {
    const spaced = spacedCalls(120);
    const log: { start: number; end: number }[] = [];
    let running = 0;
    const call = (fail: boolean) => async () => {
      running++;
      expect(running).toBe(1);
      const start = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 10));
      running--;
      log.push({ start, end: performance.now() });
      if (fail) throw new Error('refused');
      return log.length;
    };
    const results = await Promise.allSettled([spaced(call(false)), spaced(call(true)), spaced(call(false)), spaced(call(false))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))).toEqual([1, 3, 4]);
    for (let i = 1; i < log.length; i++) expect(log[i]!.start - log[i - 1]!.end).toBeGreaterThanOrEqual(115);
  });

  it('does not delay a call that comes long after the last one', async () => {
    let clock = 0;
    const spaced = spacedCalls(500, () => clock);
    await spaced(async () => 1);
    clock = 10_000;
    const started = performance.now();
    await spaced(async () => 2);
    expect(performance.now() - started).toBeLessThan(400);
  });
});
