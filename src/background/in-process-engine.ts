import browser from 'webextension-polyfill';
import { WorkerEngine } from '../engine/worker-engine';
import type { RequestOf, RequestType, ResultOf } from '../shared/protocol';
import type { Response } from '../shared/respond';
import type { EngineClient } from './engine-client';

/** How often an API call resets Firefox's idle timer (30 s by default) while work needs the page alive. */
const KEEP_ALIVE_MS = 1_000;

/**
 * Firefox: there is no offscreen API, so the event page keeps the engine's worker itself
 * (engine/engine-worker.ts). The engine runs on that worker's thread, not the event page's: a job
 * stuck for good there stops only the worker, which is restarted (engine/worker-engine.ts), while
 * the menus, on the event page's thread, keep working. When Firefox unloads an idle event page,
 * the worker goes with it, and the next request starts both again: the model reloads on the
 * remembered backend and the head comes back from IndexedDB.
 */
export class InProcessEngineClient implements EngineClient {
  private readonly engine = new WorkerEngine({ start: () => new Worker(new URL('../engine/engine-worker.ts', import.meta.url), { type: 'module' }) });

  /** Work the page must stay loaded for (requests being answered, a training run), and the timer that keeps it so. */
  private awakeFor = 0;
  private awakeTimer: ReturnType<typeof setInterval> | undefined;

  async request<T extends RequestType>(request: RequestOf<T>): Promise<Response<ResultOf<T>>> {
    const answer = this.engine.request(request);
    this.keepAliveUntil(answer);
    const response = await answer;
    if (request.type === 'train' && response.ok) this.keepAliveUntil(this.trainingEnded());
    return response;
  }

  /**
   * Firefox unloads the event page after 30 s without extension API calls, even while it still
   * owes an answer or trains: a download from a slow server (up to DOWNLOAD_TIMEOUT_MS, 30 s)
   * ended with the overlay saying "Spotter gave no valid answer", and a long training run was cut
   * off. An API call a second, while any such work lasts, counts as activity. With a 3 s idle
   * timeout, the Firefox e2e test of a slow download fails without it. A training run keeps only
   * the worker busy, not the event page's thread: this is what keeps the page, and so the worker,
   * loaded until it ends (event-page e2e: a run that outlasts the idle timeout).
   */
  private keepAliveUntil(work: Promise<unknown>): void {
    if (this.awakeFor++ === 0) this.awakeTimer = setInterval(() => void browser.runtime.getPlatformInfo(), KEEP_ALIVE_MS);
    const done = () => {
      if (--this.awakeFor === 0) clearInterval(this.awakeTimer);
    };
    work.then(done, done);
  }

  /** Settles once the training run started last is no longer running (or the engine could not say). */
  private async trainingEnded(): Promise<void> {
    for (;;) {
      const status = await this.engine.request({ type: 'training-status' });
      if (!status.ok || status.result.phase !== 'running') return;
      await new Promise((resolve) => setTimeout(resolve, KEEP_ALIVE_MS));
    }
  }
}
