import { SpotterError } from '../shared/errors';

/**
 * Runs jobs one at a time, in order. TF.js work shares one backend and one memory pool,
 * so overlapping jobs only slow each other down and make memory peaks unpredictable.
 *
 * A job that overruns its timeout is reported to its caller as failed and the queue moves
 * on; the job itself cannot be cancelled (TF.js has no cancellation), so its result is dropped.
 */
export class JobQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  get size(): number {
    return this.pending;
  }

  run<T>(label: string, timeoutMs: number, job: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(() => withTimeout(label, timeoutMs, job));
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.tail = settled;
    void settled.then(() => this.pending--);
    return result;
  }
}

export function withTimeout<T>(label: string, timeoutMs: number, job: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Only the wait ends: TF.js work cannot be cancelled, so say what is true.
      reject(new SpotterError('timeout', `${label} took longer than ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}, so Spotter stopped waiting. Try again.`));
    }, timeoutMs);
    Promise.resolve().then(job).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
