import browser from 'webextension-polyfill';

/**
 * The content script can start twice in one frame: Spotter injects it into a frame that has none
 * listening yet (a tab open before install, or one still loading when the popup asks), and the
 * manifest's copy then runs there as well at document_idle. Both would answer every command: two
 * overlays, the second refused for want of a ticket. Copies of one extension share the frame's
 * isolated world, so the first leaves a mark there and a later copy stands aside while that first
 * copy's extension context is alive; one orphaned by an update or reinstall does not count.
 */
const MARK = '__spotterContentScript';

interface Mark {
  isAlive(): boolean;
}

/** Whether this copy is the one to listen in this frame (and, if so, marks the frame as taken). */
export function claimFrame(): boolean {
  const marked = globalThis as { [MARK]?: Mark };
  if (marked[MARK]?.isAlive()) return false;
  const runtime = browser.runtime;
  marked[MARK] = {
    isAlive() {
      try {
        return Boolean(runtime.id);
      } catch {
        return false; // Chrome throws "Extension context invalidated" in an orphaned copy.
      }
    },
  };
  return true;
}
