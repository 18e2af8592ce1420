import browser from 'webextension-polyfill';
import * as v from 'valibot';
import { ClassifyResponseSchema, StatusResponseSchema, type EngineRequest } from '../shared/protocol';
import { SpotterError } from '../shared/errors';
import type { EngineClient } from './engine-client';

const OFFSCREEN_PATH = 'src/offscreen/offscreen.html';

/** Chrome: the engine lives in an offscreen document, created on demand and recreated if closed. */
export class OffscreenEngineClient implements EngineClient {
  private creating: Promise<void> | undefined;

  classify(source: Extract<EngineRequest, { type: 'engine/classify' }>['source']) {
    return this.request({ type: 'engine/classify', source }, ClassifyResponseSchema);
  }

  status(warmUp: boolean) {
    return this.request({ type: 'engine/status', warmUp }, StatusResponseSchema);
  }

  private async request<S extends v.GenericSchema>(message: EngineRequest, schema: S): Promise<v.InferOutput<S>> {
    await this.ensureDocument();
    const reply: unknown = await browser.runtime.sendMessage(message);
    const parsed = v.safeParse(schema, reply);
    if (!parsed.success) throw new SpotterError('engine', 'The Spotter engine gave no valid answer. Try again.');
    return parsed.output;
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
