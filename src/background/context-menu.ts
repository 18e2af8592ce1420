import browser, { type Menus, type Tabs } from 'webextension-polyfill';
import { CLASSIFY_MENU_ID, type ContentCommand } from '../shared/protocol';

/**
 * "Classify with Spotter" on images and videos, and on any element (contexts page/link/frame),
 * because canvases and CSS backgrounds have no context of their own: the content script
 * finds the image under the cursor.
 */
export function createClassifyMenu(): void {
  browser.contextMenus.create({
    id: CLASSIFY_MENU_ID,
    title: 'Classify with Spotter',
    contexts: ['image', 'video', 'page', 'link', 'frame'],
  });
}

export function listenForClassifyClicks(): void {
  browser.contextMenus.onClicked.addListener((info, tab) => {
    if (info.menuItemId !== CLASSIFY_MENU_ID || tab?.id === undefined) return;
    void sendToContentScript(tab, info);
  });
}

async function sendToContentScript(tab: Tabs.Tab, info: Menus.OnClickData): Promise<void> {
  const tabId = tab.id!;
  const frameId = info.frameId ?? 0;
  const command: ContentCommand = { type: 'classify-target', srcUrl: info.srcUrl, mediaType: info.mediaType };
  try {
    await browser.tabs.sendMessage(tabId, command, { frameId });
  } catch {
    // Tabs opened before Spotter was installed or updated have no content script yet.
    await injectContentScript(tabId, frameId);
    await browser.tabs.sendMessage(tabId, command, { frameId });
  }
}

async function injectContentScript(tabId: number, frameId: number): Promise<void> {
  const files = browser.runtime.getManifest().content_scripts?.flatMap((script) => script.js ?? []) ?? [];
  await browser.scripting.executeScript({ target: { tabId, frameIds: [frameId] }, files });
}
