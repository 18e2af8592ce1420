import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { spacedCalls } from '../../src/background/spaced-calls';

// Fake timers (Date.now and setTimeout): the spacing is checked exactly, on a clock the test moves.
beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('spacedCalls (screen captures within Chrome\'s two-a-second quota)', () => {
  it('runs calls one at a time, each starting at least the spacing after the previous one ended, failed ones too', async () => {
    const spacing = 120;
    const callTime = 10;
    const spaced = spacedCalls(spacing, () => Date.now());
    const log: { start: number; end: number }[] = [];
    let running = 0;
    const call = (fail: boolean) => async () => {
      running++;
      expect(running).toBe(1);
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, callTime));
      running--;
      log.push({ start, end: Date.now() });
      if (fail) throw new Error('refused');
      return log.length;
    };
    const results = Promise.allSettled([spaced(call(false)), spaced(call(true)), spaced(call(false)), spaced(call(false))]);
    // The first starts at once; each next one only once the spacing after the previous end has passed.
    const started = () => log.length + running;
    await vi.advanceTimersByTimeAsync(0);
    expect(started()).toBe(1);
    for (let next = 2; next <= 4; next++) {
      await vi.advanceTimersByTimeAsync(callTime + spacing - 1);
      expect(started(), `call ${next}, 1 ms early`).toBe(next - 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(started(), `call ${next}`).toBe(next);
    }
    await vi.advanceTimersByTimeAsync(callTime);
    const settled = await results;
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))).toEqual([1, 3, 4]);
    expect(log).toHaveLength(4);
    for (let i = 1; i < log.length; i++) expect(log[i]!.start - log[i - 1]!.end).toBe(spacing);
  });

  it('does not delay a call that comes long after the last one', async () => {
    let clock = 0;
    const spacing = 500;
    const spaced = spacedCalls(spacing, () => clock);
    await spaced(async () => 1);
    clock = 10_000;
    // No timer needs to fire for this one: it is done once the pending promise callbacks have run.
    let done = false;
    void spaced(async () => 2).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
    // The control: one right after it (the clock has not moved) waits the full spacing.
    done = false;
    void spaced(async () => 3).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(spacing - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
  });
});
