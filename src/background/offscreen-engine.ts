import browser from 'webextension-polyfill';
import * as v from 'valibot';
import { RESULT_SCHEMAS, responseSchema, type EngineRequest, type RequestOf, type RequestType, type ResultOf } from '../shared/protocol';
import { SpotterError } from '../shared/errors';
import type { Response } from '../shared/respond';
import type { EngineClient } from './engine-client';

const OFFSCREEN_PATH = 'src/offscreen/offscreen.html';

/** Chrome: the engine lives in an offscreen document, created on demand and recreated if closed. */
export class OffscreenEngineClient implements EngineClient {
  private creating: Promise<void> | undefined;

  async request<T extends RequestType>(request: RequestOf<T>): Promise<Response<ResultOf<T>>> {
    await this.ensureDocument();
    const envelope: EngineRequest = { type: 'engine/request', request };
    const reply: unknown = await browser.runtime.sendMessage(envelope);
    const parsed = v.safeParse(responseSchema(RESULT_SCHEMAS[request.type] as v.GenericSchema), reply);
    if (!parsed.success) throw new SpotterError('engine', 'The Spotter engine gave no valid answer. Try again.');
    return parsed.output as Response<ResultOf<T>>;
  }

  /** One creation in flight at a time: two clicks in a row must not race to create two documents. */
  private async ensureDocument(): Promise<void> {
    const url = chrome.runtime.getURL(OFFSCREEN_PATH);
    const existing = await chrome.runtime.getContexts({ contextTypes: [chrome.runtime.ContextType.OFFSCREEN_DOCUMENT], documentUrls: [url] });
    if (existing.length > 0) return;
    this.creating ??= chrome.offscreen
      .createDocument({
        url: OFFSCREEN_PATH,
        reasons: [chrome.offscreen.Reason.WORKERS],
        justification: 'Runs the on-device image classifier (TF.js on WebGL or WebAssembly) away from web pages.',
      })
      .finally(() => (this.creating = undefined));
    await this.creating;
  }
}
