import browser from 'webextension-polyfill';
import { BrowserEngineHost } from '../engine/browser-host';
import type { RequestOf, RequestType, ResultOf } from '../shared/protocol';
import { respond, type Response } from '../shared/respond';
import type { EngineClient } from './engine-client';

/** How often an API call resets Firefox's idle timer (30 s by default) while work needs the page alive. */
const KEEP_ALIVE_MS = 1_000;

/**
 * Firefox: the event page hosts the engine itself (there is no offscreen API). When Firefox
 * unloads an idle event page, the next request builds the host again: the model reloads on the
 * remembered backend and the head comes back from IndexedDB.
 */
export class InProcessEngineClient implements EngineClient {
  private readonly host = new BrowserEngineHost((path) => browser.runtime.getURL(path));

  /** Work the page must stay loaded for (requests being answered, a training run), and the timer that keeps it so. */
  private awakeFor = 0;
  private awakeTimer: ReturnType<typeof setInterval> | undefined;

  async request<T extends RequestType>(request: RequestOf<T>): Promise<Response<ResultOf<T>>> {
    const answer = respond(() => this.host.handle(request));
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
   * timeout, the Firefox e2e test of a slow download fails without it. The long training run's
   * test passes even without it in Firefox ESR 153 (it does not unload a page busy training), so
   * there it is a guard for other versions; it needs trainHead to yield a task between epochs, or
   * no timer would run mid-run.
   */
  private keepAliveUntil(work: Promise<unknown>): void {
    if (this.awakeFor++ === 0) this.awakeTimer = setInterval(() => void browser.runtime.getPlatformInfo(), KEEP_ALIVE_MS);
    const done = () => {
      if (--this.awakeFor === 0) clearInterval(this.awakeTimer);
    };
    work.then(done, done);
  }

  /** Settles once the training run started last is no longer running. */
  private async trainingEnded(): Promise<void> {
    while ((await this.host.handle({ type: 'training-status' })).phase === 'running') {
      await new Promise((resolve) => setTimeout(resolve, KEEP_ALIVE_MS));
    }
  }
}
