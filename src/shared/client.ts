/**
 * Typed requests from the popup and content script: send, validate the answer against the
 * protocol, and turn an error answer into a thrown SpotterError with the user-facing message.
 */
import browser from 'webextension-polyfill';
import * as v from 'valibot';
import { isUnreachablePage, sendToContentScript } from './content-script';
import { SpotterError } from './errors';
import {
  CONTENT_RESULT_SCHEMAS,
  RESULT_SCHEMAS,
  responseSchema,
  type ContentCommand,
  type RequestOf,
  type RequestType,
  type ResultOf,
} from './protocol';

export async function ask<T extends RequestType>(request: RequestOf<T>): Promise<ResultOf<T>> {
  const reply: unknown = await browser.runtime.sendMessage(request);
  const schema = responseSchema(RESULT_SCHEMAS[request.type] as v.GenericSchema);
  const parsed = v.safeParse(schema, reply);
  if (!parsed.success) throw new SpotterError('engine', 'Spotter gave no valid answer. Try again.');
  if (!parsed.output.ok) throw new SpotterError(parsed.output.error.code, parsed.output.error.message);
  return parsed.output.result as ResultOf<T>;
}

type ContentType = ContentCommand['type'];
export type ContentResultOf<T extends ContentType> = v.InferOutput<(typeof CONTENT_RESULT_SCHEMAS)[T]>;

/** A command to the content script of a tab's top frame. */
export async function tellTab<T extends ContentType>(tabId: number, command: Extract<ContentCommand, { type: T }>): Promise<ContentResultOf<T>> {
  let reply: unknown;
  try {
    reply = await sendToContentScript(tabId, 0, command);
  } catch (error) {
    // The content script's own errors ("That image is no longer on the page…") are for the user as they are.
    const message = error instanceof Error ? error.message : String(error);
    if (message && !isUnreachablePage(error)) throw new SpotterError('unreadable', message);
    throw new SpotterError(
      'unreadable',
      'Spotter cannot see this page: browser pages and the extension store are off limits, and file: pages need "Allow access to file URLs" in Spotter\'s details.',
    );
  }
  const parsed = v.safeParse(CONTENT_RESULT_SCHEMAS[command.type] as v.GenericSchema, reply);
  if (!parsed.success) throw new SpotterError('engine', 'The page gave no valid answer. Reload the tab and try again.');
  return parsed.output as ContentResultOf<T>;
}
