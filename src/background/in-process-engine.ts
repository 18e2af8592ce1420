import browser from 'webextension-polyfill';
import { BrowserEngineHost } from '../engine/browser-host';
import type { RequestOf, RequestType, ResultOf } from '../shared/protocol';
import { respond, type Response } from '../shared/respond';
import type { EngineClient } from './engine-client';

/** How often an API call resets Firefox's idle timer (30 s by default) while a training run needs the page alive. */
const KEEP_ALIVE_MS = 1_000;

/**
 * Firefox: the event page hosts the engine itself (there is no offscreen API). When Firefox
 * unloads an idle event page, the next request builds the host again: the model reloads on the
 * remembered backend and the head comes back from IndexedDB.
 */
export class InProcessEngineClient implements EngineClient {
  private readonly host = new BrowserEngineHost((path) => browser.runtime.getURL(path));

  private pending = 0;
  private pendingTimer: ReturnType<typeof setInterval> | undefined;

  async request<T extends RequestType>(request: RequestOf<T>): Promise<Response<ResultOf<T>>> {
    this.keepAliveWhilePending(+1);
    try {
      const response = await respond(() => this.host.handle(request));
      if (request.type === 'train' && response.ok) this.keepAliveWhileTraining();
      return response;
    } finally {
      this.keepAliveWhilePending(-1);
    }
  }

  /**
   * Firefox unloads the event page after 30 s without API activity even while it still owes an
   * answer: a download from a slow server (up to DOWNLOAD_TIMEOUT_MS, 30 s) ended with the
   * overlay saying "Spotter gave no valid answer" instead of the download's own message.
   */
  private keepAliveWhilePending(change: 1 | -1): void {
    this.pending += change;
    if (this.pending > 0 && !this.pendingTimer) this.pendingTimer = setInterval(() => void browser.runtime.getPlatformInfo(), KEEP_ALIVE_MS);
    if (this.pending === 0 && this.pendingTimer) {
      clearInterval(this.pendingTimer);
      this.pendingTimer = undefined;
    }
  }

  /**
   * A running training must not be cut off by the idle unload: extension API calls count as
   * activity. The Firefox e2e test (3 s idle timeout, 400 epochs) fails without these calls, and
   * failed with them too until trainHead yielded a task between epochs: a timer never ran mid-run.
   */
  private keepAliveWhileTraining(): void {
    const timer = setInterval(() => {
      void this.host.handle({ type: 'training-status' }).then((state) => {
        if (state.phase === 'running') void browser.runtime.getPlatformInfo();
        else clearInterval(timer);
      });
    }, KEEP_ALIVE_MS);
  }
}
