/** Reaching the content script of a tab, also in tabs that were open before Spotter was installed or updated. */
import browser from 'webextension-polyfill';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The browser's words for "no content script answers in that frame" (Chrome and Firefox alike). */
export function isMissingReceiver(error: unknown): boolean {
  return /Receiving end does not exist|Could not establish connection/i.test(messageOf(error));
}

/** Whether Spotter cannot run in the page at all: no content script, and none may be injected (browser pages, the store, file: without access). */
export function isUnreachablePage(error: unknown): boolean {
  return isMissingReceiver(error) || /Cannot access|cannot be scripted|Missing host permission/i.test(messageOf(error));
}

/** Runs the manifest's content script in one frame of a tab (needs the "scripting" permission). */
export async function injectContentScript(tabId: number, frameId: number): Promise<void> {
  const files = browser.runtime.getManifest().content_scripts?.flatMap((script) => script.js ?? []) ?? [];
  await browser.scripting.executeScript({ target: { tabId, frameIds: [frameId] }, files });
}

/**
 * tabs.sendMessage, injecting the content script first if the frame has none yet. The content
 * script is one self-contained file that listens as soon as it runs (crxjs standaloneFiles, see
 * vite.config.ts), so once executeScript returns it answers.
 */
export async function sendToContentScript(tabId: number, frameId: number, message: unknown): Promise<unknown> {
  try {
    return await browser.tabs.sendMessage(tabId, message, { frameId });
  } catch (error) {
    if (!isMissingReceiver(error)) throw error;
    await injectContentScript(tabId, frameId);
    return await browser.tabs.sendMessage(tabId, message, { frameId });
  }
}
