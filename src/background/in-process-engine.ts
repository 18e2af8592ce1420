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

  async request<T extends RequestType>(request: RequestOf<T>): Promise<Response<ResultOf<T>>> {
    const response = await respond(() => this.host.handle(request));
    if (request.type === 'train' && response.ok) this.keepAliveWhileTraining();
    return response;
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
