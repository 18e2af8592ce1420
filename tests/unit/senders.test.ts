import { describe, expect, it } from 'vitest';
import { isOwnContentScript, isOwnExtensionPage } from '../../src/shared/senders';

const self = { id: 'abcdefghijklmnop', baseUrl: 'chrome-extension://abcdefghijklmnop/' };
const worker = { id: self.id, url: `${self.baseUrl}service-worker-loader.js` };
const popupAsTab = { id: self.id, url: `${self.baseUrl}src/popup/popup.html?tabId=3`, tab: { id: 9 } };
const contentScript = { id: self.id, url: 'https://example.com/page', tab: { id: 4 }, frameId: 0 };
const otherExtension = { id: 'zzzzzzzzzzzzzzzz', url: 'chrome-extension://zzzzzzzzzzzzzzzz/bg.js' };

describe('sender checks use only browser-stamped fields', () => {
  it('extension pages: our worker and our popup (even opened as a tab)', () => {
    expect(isOwnExtensionPage(worker, self)).toBe(true);
    expect(isOwnExtensionPage(popupAsTab, self)).toBe(true);
    expect(isOwnExtensionPage(contentScript, self)).toBe(false);
    expect(isOwnExtensionPage(otherExtension, self)).toBe(false);
    // A page that merely mentions our URL in its path is not us.
    expect(isOwnExtensionPage({ id: self.id, url: `https://evil.example/${self.baseUrl}`, tab: { id: 1 } }, self)).toBe(false);
  });

  it('content scripts: ours, in a tab, on a web page', () => {
    expect(isOwnContentScript(contentScript, self)).toBe(true);
    expect(isOwnContentScript({ ...contentScript, id: 'zzzzzzzzzzzzzzzz' }, self)).toBe(false);
    expect(isOwnContentScript({ id: self.id, url: 'https://example.com/' }, self)).toBe(false);
    expect(isOwnContentScript(popupAsTab, self)).toBe(false);
    expect(isOwnContentScript({ ...contentScript, tab: { id: -1 } }, self)).toBe(false);
  });
});
