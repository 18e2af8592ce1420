import browser, { type Menus, type Tabs } from 'webextension-polyfill';
import {
  CLASSIFY_MENU_ID,
  LABEL_MENU_ID,
  LABEL_MENU_ITEM_PREFIX,
  NEW_LABEL_MENU_ID,
  type ContentCommand,
} from '../shared/protocol';
import { labelSummaries } from '../storage/dataset';
import { sendToContentScript } from '../shared/content-script';
import { issueTicket } from './ticket-store';

/**
 * Images and videos have contexts of their own; canvases and CSS backgrounds do not, so the
 * items also show on any element (page/link/frame) and the content script finds the image.
 * Chrome reports a right-clicked canvas as media of type "canvas", which no context but 'all'
 * matches ('page' needs no media at all): Chrome's items take 'all', which also puts them in the
 * toolbar button's own menu (see openViewOf). Firefox counts a canvas as 'page'.
 */
const CONTEXTS: Menus.ContextType[] = __SPOTTER_BROWSER__ === 'chrome' ? ['all'] : ['image', 'video', 'page', 'link', 'frame'];

export async function createMenus(): Promise<void> {
  await browser.contextMenus.removeAll();
  browser.contextMenus.create({ id: CLASSIFY_MENU_ID, title: 'Classify with Spotter', contexts: CONTEXTS });
  await refreshLabelMenu();
}

let refreshing: Promise<void> = Promise.resolve();

/** "Label as ▸ (the user's labels) / New label…", rebuilt whenever the labels change. */
export function refreshLabelMenu(): Promise<void> {
  refreshing = refreshing.then(rebuildLabelMenu, rebuildLabelMenu);
  return refreshing;
}

async function rebuildLabelMenu(): Promise<void> {
  await browser.contextMenus.remove(LABEL_MENU_ID).catch(() => undefined);
  browser.contextMenus.create({ id: LABEL_MENU_ID, title: 'Label as', contexts: CONTEXTS });
  for (const { label } of await labelSummaries()) {
    browser.contextMenus.create({ id: `${LABEL_MENU_ITEM_PREFIX}${label}`, parentId: LABEL_MENU_ID, title: label.replaceAll('&', '&&'), contexts: CONTEXTS });
  }
  browser.contextMenus.create({ id: NEW_LABEL_MENU_ID, parentId: LABEL_MENU_ID, title: 'New label…', contexts: CONTEXTS });
}

export function listenForMenuClicks(): void {
  browser.contextMenus.onClicked.addListener(onMenuClicked);
}

export function onMenuClicked(info: Menus.OnClickData, tab: Tabs.Tab | undefined): void {
  const command = commandFor(info);
  if (!command || tab?.id === undefined) return;
  // A page's menu always names the page; the toolbar button's menu names none (Chrome's 'all').
  if (info.pageUrl === undefined && info.frameUrl === undefined) {
    void openViewOf(tab);
    return;
  }
  const tabId = tab.id;
  const frameId = info.frameId ?? 0;
  // The user's choice allows that frame's content script one request (command-tickets.ts).
  const ticket = command.type === 'label-target' ? issueTicket(tabId, frameId, 'add-example', command.label) : issueTicket(tabId, frameId, 'classify-image', null);
  ticket.then(() => sendToContentScript(tabId, frameId, command)).then(
    () => clearPageProblem(tabId),
    (error: unknown) => showPageProblem(tabId, error instanceof Error ? error.message : String(error)),
  );
}

/**
 * "Classify with Spotter" or "Label as" chosen from the toolbar button's menu, where no picture
 * was right-clicked: Spotter's view of the tab opens, where every picture of the page is
 * classified and can be labelled. As the popup where the browser allows it (Chrome 127+),
 * else as a tab beside the page.
 */
async function openViewOf(tab: Tabs.Tab): Promise<void> {
  try {
    await browser.action.openPopup();
  } catch {
    const popup = browser.runtime.getManifest().action?.default_popup ?? 'src/popup/popup.html';
    await browser.tabs.create({ url: browser.runtime.getURL(`${popup}?tabId=${tab.id}`), index: tab.index + 1, openerTabId: tab.id, windowId: tab.windowId });
  }
}

const PROBLEM_BADGE = '!';

/**
 * The page cannot run Spotter's content script (a browser page, the extension store, a file: page
 * without file access): there is no overlay to show the error in, so the toolbar says it, for
 * this tab only (browsers drop tab-specific badges when the tab navigates).
 */
function showPageProblem(tabId: number, reason: string): void {
  void browser.action.setBadgeText({ tabId, text: PROBLEM_BADGE });
  void browser.action.setBadgeBackgroundColor({ tabId, color: '#b3261e' });
  void browser.action.setTitle({ tabId, title: `Spotter cannot work on this page (${reason}). Browser pages and the extension store are off limits; for file: pages, allow access to file URLs in Spotter's details.` });
}

/** A later command reached the page: the warning no longer holds. */
async function clearPageProblem(tabId: number): Promise<void> {
  try {
    if ((await browser.action.getBadgeText({ tabId })) !== PROBLEM_BADGE) return;
    await browser.action.setBadgeText({ tabId, text: '' });
    await browser.action.setTitle({ tabId, title: browser.runtime.getManifest().action?.default_title ?? 'Spotter' });
  } catch {
    // The tab closed meanwhile: nothing to clear.
  }
}

function commandFor(info: Menus.OnClickData): Extract<ContentCommand, { type: 'classify-target' | 'label-target' }> | null {
  const target = { srcUrl: info.srcUrl, mediaType: info.mediaType };
  const id = String(info.menuItemId);
  if (id === CLASSIFY_MENU_ID) return { type: 'classify-target', ...target };
  if (id === NEW_LABEL_MENU_ID) return { type: 'label-target', ...target, label: null };
  if (id.startsWith(LABEL_MENU_ITEM_PREFIX)) return { type: 'label-target', ...target, label: id.slice(LABEL_MENU_ITEM_PREFIX.length) };
  return null;
}
