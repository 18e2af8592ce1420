import browser from 'webextension-polyfill';
import * as v from 'valibot';
import { ENGINE_SILENT_LIMIT_MS, ENGINE_STALLED_MESSAGE, RESULT_SCHEMAS, responseSchema, type EngineMessage, type RequestOf, type RequestType, type ResultOf } from '../shared/protocol';
import { SpotterError } from '../shared/errors';
import type { Response } from '../shared/respond';
import type { EngineClient } from './engine-client';

const OFFSCREEN_PATH = 'src/offscreen/offscreen.html';
const PING_EVERY_MS = 1_000;

/**
 * Chrome: the engine lives in an offscreen document (in a worker it keeps, which it restarts if
 * it hangs), created on demand and recreated if closed. While an answer is owed, the background
 * pings the document every second; a document that answers no ping for ENGINE_SILENT_LIMIT_MS
 * (its own thread stuck, which its worker watchdog cannot help) is closed, and the request told so.
 * A new document is made for the next request. (In Chromium 156 a document whose thread is stuck
 * in a loop holds up the extension's other pages in that process too, and a new one does not load
 * until the loop ends: then the next request is told the same, rather than left waiting.)
 */
export class OffscreenEngineClient implements EngineClient {
  private creating: Promise<void> | undefined;

  async request<T extends RequestType>(request: RequestOf<T>): Promise<Response<ResultOf<T>>> {
    const envelope: EngineMessage = { type: 'engine/request', request };
    const reply = await this.watched(async () => {
      await this.ensureDocument();
      return (await browser.runtime.sendMessage(envelope)) as unknown;
    });
    if (reply === STALLED) return { ok: false, error: new SpotterError('engine', ENGINE_STALLED_MESSAGE).toInfo() };
    const parsed = v.safeParse(responseSchema(RESULT_SCHEMAS[request.type] as v.GenericSchema), reply);
    if (!parsed.success) throw new SpotterError('engine', 'The Spotter engine gave no valid answer. Try again.');
    return parsed.output as Response<ResultOf<T>>;
  }

  /** The work's outcome, or STALLED once the document has answered no ping for the limit (the document is then closed). */
  private watched(work: () => Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let pingedAt: number | null = null;
      const ping: EngineMessage = { type: 'engine/ping' };
      const heartbeat = setInterval(() => {
        if (pingedAt === null) {
          const sent = (pingedAt = Date.now());
          browser.runtime.sendMessage(ping).then(
            (answer: unknown) => {
              // Only the engine's document answers true (a popup open beside it answers nothing).
              if (answer === true && pingedAt === sent) pingedAt = null;
            },
            () => undefined, // no document yet (it is being made): the wait goes on counting
          );
        } else if (Date.now() - pingedAt > ENGINE_SILENT_LIMIT_MS) {
          clearInterval(heartbeat);
          this.creating = undefined;
          chrome.offscreen.closeDocument().catch(() => undefined);
          resolve(STALLED);
        }
      }, PING_EVERY_MS);
      work().then(resolve, reject).finally(() => clearInterval(heartbeat));
    });
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
        justification: 'Runs the on-device image classifier (TF.js on WebGL or WebAssembly) in a worker, away from web pages.',
      })
      .finally(() => (this.creating = undefined));
    await this.creating;
  }
}

const STALLED = Symbol('the engine document stopped answering');
