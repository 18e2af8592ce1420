/**
 * Reads what the screen shows of a canvas or video whose pixels the page lets no one copy
 * (WebGL drawing buffers, another site's picture drawn on a canvas, another site's video): the
 * visible tab is captured and the element's box cut out. Only the engine gets the picture; the
 * content script that asked gets labels, as for any other image (it could otherwise use this to
 * see other sites' pixels).
 */
import browser from 'webextension-polyfill';
import { toBase64 } from '../shared/base64';
import { SpotterError } from '../shared/errors';
import * as v from 'valibot';
import { sendToContentScript } from '../shared/content-script';
import { CONTENT_RESULT_SCHEMAS, ScreenAreaSchema, type ImageSource, type ScreenArea, type ScreenSource } from '../shared/protocol';
import { ARMED_TOKEN_MS, ARMED_TOKENS_GLOBAL, armFrameToken } from '../shared/frame-tokens';
import { withTimeout } from '../engine/queue';
import { spacedCalls } from './spaced-calls';

/** @param frameId the frame that asked (the top frame for the popup), whose viewport `source` is in. */
export async function readScreen(source: ScreenSource, tabId: number, frameId: number): Promise<ImageSource> {
  const area = await inTopViewport(source, tabId, frameId);
  let shot: string;
  try {
    shot = await withOverlaysHidden(tabId, () =>
      captureWithinQuota(async () => {
        // The capture is of whichever tab is active in the window: it must be the one that asked, before and after.
        const { windowId } = await activeTab(tabId);
        const png = await browser.tabs.captureVisibleTab(windowId, { format: 'png' });
        await activeTab(tabId);
        return png;
      }),
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SpotterError('unreadable', `Spotter could not read this part of the screen (${reason}). Bring the tab to the front and right-click again.`);
  }
  const screen = await createImageBitmap(await (await fetch(shot)).blob());
  try {
    // The capture is in device pixels: zoom and high-DPI screens scale the CSS box.
    const scale = screen.width / area.viewportWidth;
    const left = clamp(Math.round(area.left * scale), 0, screen.width);
    const top = clamp(Math.round(area.top * scale), 0, screen.height);
    const right = clamp(Math.round((area.left + area.width) * scale), 0, screen.width);
    const bottom = clamp(Math.round((area.top + area.height) * scale), 0, screen.height);
    if (right - left < 1 || bottom - top < 1) throw new SpotterError('no-image', 'This picture is not on the screen. Scroll it into view and right-click it again.');
    const canvas = new OffscreenCanvas(right - left, bottom - top);
    canvas.getContext('2d')!.drawImage(screen, left, top, right - left, bottom - top, 0, 0, right - left, bottom - top);
    const png = await canvas.convertToBlob({ type: 'image/png' });
    return { url: `data:image/png;base64,${toBase64(await png.arrayBuffer())}`, ...(source.pageUrl !== undefined && { pageUrl: source.pageUrl }) };
  } finally {
    screen.close();
  }
}

/**
 * How long the capture waits for the tab's frames to be listed, then for each to say that it has
 * hidden its overlays: a frame that is busy, still loading or gone is not waited for.
 */
const HIDE_ANSWER_MS = 1_000;
/** Where the frames cannot be listed, how long they are given to paint without their overlays (a frame's own wait gives up after 200 ms). */
const BROADCAST_PAINT_MS = 250;

/**
 * Takes the capture with Spotter's overlays hidden in every frame of the tab, not only in the one
 * that asked: an overlay of one frame can lie over a picture in another (the top page's panel over
 * a frame's canvas; the popup's reads are answered by the top frame, for same-origin frames' pictures
 * too). Each frame hides them for this read, named by its id, so that overlapping reads end apart,
 * and answers once it has painted without them; after the capture, taken or not, every frame is told
 * that they may show again ('screen-read'). A frame keeps them hidden no longer than its own limit
 * if that word never comes.
 */
async function withOverlaysHidden<T>(tabId: number, capture: () => Promise<T>): Promise<T> {
  const read = crypto.randomUUID();
  const hide = { type: 'hide-for-screen-read', read } as const;
  const show = { type: 'screen-read', read } as const;
  // At once, not at document_idle: a frame still loading (a stalled ad) must not hold the read up.
  const listing = browser.scripting.executeScript({ target: { tabId, allFrames: true }, func: () => true, injectImmediately: true });
  const frames = await withTimeout('Listing the frames', HIDE_ANSWER_MS, () => listing).then(
    (results) => results.map(({ frameId }) => frameId),
    () => null,
  );
  if (frames) {
    await Promise.all(frames.map((frameId) => withTimeout('Hiding overlays', HIDE_ANSWER_MS, () => browser.tabs.sendMessage(tabId, hide, { frameId })).catch(() => undefined)));
  } else {
    // Not listed in time, or scripting refused in this tab: every frame is told at once, and given
    // time to paint. (Chromium 156 leaves out of the listing a frame it may not script, such as
    // another extension's page, rather than refusing it.)
    browser.tabs.sendMessage(tabId, hide).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, BROADCAST_PAINT_MS));
  }
  try {
    return await capture();
  } finally {
    if (frames) for (const frameId of frames) browser.tabs.sendMessage(tabId, show, { frameId }).catch(() => undefined);
    else browser.tabs.sendMessage(tabId, show).catch(() => undefined);
  }
}

/**
 * The area in the top frame's viewport. A frame inside another site's page gave its own: the
 * read's token is armed in every frame of the tab, the frame posts its area up, and the frames on
 * the way place it (content/frame-placement.ts).
 */
async function inTopViewport({ screen, frameToken }: ScreenSource, tabId: number, frameId: number): Promise<ScreenArea> {
  if (frameToken === undefined) return screen;
  const cannotPlace = 'Spotter could not tell where this frame is on the page, so it cannot read this picture from the screen.';
  try {
    // At once: a frame still loading elsewhere in the tab must not hold the read up.
    await browser.scripting.executeScript({ target: { tabId, allFrames: true }, func: armFrameToken, args: [frameToken, ARMED_TOKENS_GLOBAL, ARMED_TOKEN_MS], injectImmediately: true });
    const { left, top, width, height } = screen;
    await browser.tabs.sendMessage(tabId, { type: 'post-frame-area', token: frameToken, area: { left, top, width, height } }, { frameId });
  } catch (error) {
    throw new SpotterError('unreadable', `${cannotPlace} (${error instanceof Error ? error.message : String(error)})`);
  }
  const placement = v.parse(CONTENT_RESULT_SCHEMAS['frame-placement'], await sendToContentScript(tabId, 0, { type: 'frame-placement', token: frameToken }).catch(() => null));
  if (!placement) throw new SpotterError('unreadable', `${cannotPlace} Reload the page and right-click it again.`);
  if ('unplaceable' in placement) throw new SpotterError('unreadable', placement.unplaceable);
  return placement;
}

/**
 * For Spotter's popup: what the screen shows of a picture it listed on the tab, when the page lets
 * no one copy it. The tab must be the one shown (the toolbar popup opens over it; a view opened
 * in a tab of its own cannot see the page).
 */
export async function readListedImage(tabId: number, imageId: string): Promise<ImageSource> {
  const tab = await browser.tabs.get(tabId);
  if (!tab.active) throw new SpotterError('uncopyable', 'Spotter reads this one from the screen, so its tab must be in front: open Spotter from the toolbar on that tab, or right-click it there.');
  const area = v.parse(ScreenAreaSchema, await sendToContentScript(tabId, 0, { type: 'screen-area', imageId }));
  // The popup asks the top frame; it names the page address itself.
  return readScreen({ screen: area }, tabId, 0);
}

/**
 * Chrome allows two captures a second (MAX_CAPTURE_VISIBLE_TAB_CALLS_PER_SECOND) and refuses the
 * next: quick right-clicks on several canvases failed. Captures go one at a time, this far apart.
 */
const captureWithinQuota = spacedCalls(550);

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

async function activeTab(tabId: number): Promise<{ windowId: number }> {
  const tab = await browser.tabs.get(tabId);
  if (!tab.active || tab.windowId === undefined) throw new Error('the tab is not the one shown');
  return { windowId: tab.windowId };
}
