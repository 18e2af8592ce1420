/** The Train view's progress reading (src/popup/training-poll.ts), with fake timers. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { POLL_MS, pollTraining, SLOW_RETRY_MS } from '../../src/popup/training-poll';
import type { TrainingState } from '../../src/shared/protocol';

const state = (phase: TrainingState['phase']): TrainingState => ({ phase, epochs: [], maxEpochs: 5, report: null, error: null, startedAt: 1, rereading: null });

afterEach(() => {
  vi.useRealTimers();
});

describe('pollTraining', () => {
  it('keeps asking, slowly, through an engine restart longer than the quick retries, then follows the run to its end', async () => {
    vi.useFakeTimers();
    // 12 failed reads: at 300 ms doubling the quick retries are spent after ~9 s; this outage lasts about a minute.
    const answers: (TrainingState | Error)[] = [state('running'), ...Array.from({ length: 12 }, () => new Error('Could not reach the engine.')), state('running'), state('done')];
    const read = vi.fn(async () => {
      const answer = answers.shift()!;
      if (answer instanceof Error) throw answer;
      return answer;
    });
    const seen: string[] = [];
    const failures: string[] = [];
    const stop = pollTraining(read, { state: (s) => seen.push(s.phase), failure: (m) => failures.push(m) });
    await vi.advanceTimersByTimeAsync(90_000);
    expect(seen).toEqual(['running', 'running', 'done']);
    expect(read).toHaveBeenCalledTimes(15);
    expect(failures).toHaveLength(12);
    expect(failures[0]).toMatch(/Trying again…$/);
    expect(failures.at(-1)).toBe(`Spotter hit an internal error: Could not reach the engine. Spotter's engine may be restarting: trying again every ${SLOW_RETRY_MS / 1000} s…`);
    // Done: no more reads.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(read).toHaveBeenCalledTimes(15);
    stop();
  });

  it('retries slowly at a steady pace, and stops when told to', async () => {
    vi.useFakeTimers();
    const read = vi.fn(() => Promise.reject(new Error('down')));
    const stop = pollTraining(read, { state: () => undefined, failure: () => undefined });
    await vi.advanceTimersByTimeAsync(POLL_MS * (2 + 4 + 8 + 16) + 1);
    expect(read).toHaveBeenCalledTimes(5);
    await vi.advanceTimersByTimeAsync(SLOW_RETRY_MS * 3);
    expect(read).toHaveBeenCalledTimes(8);
    stop();
    await vi.advanceTimersByTimeAsync(SLOW_RETRY_MS * 3);
    expect(read).toHaveBeenCalledTimes(8);
  });
});
