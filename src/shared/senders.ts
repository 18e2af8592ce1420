/**
 * Who may send what. Decisions use only what the browser stamps on the message (sender.id,
 * sender.url, sender.tab), never fields inside the message, which any sender can forge.
 */
export interface SenderInfo {
  id?: string;
  url?: string;
  tab?: { id?: number };
  frameId?: number;
}

export interface ExtensionIdentity {
  id: string;
  /** The extension's own origin with a trailing slash, e.g. chrome-extension://abc/ */
  baseUrl: string;
}

/** Pages of this extension: the background, offscreen document, popup (also when opened as a tab). */
export function isOwnExtensionPage(sender: SenderInfo, self: ExtensionIdentity): boolean {
  return sender.id === self.id && typeof sender.url === 'string' && sender.url.startsWith(self.baseUrl);
}

/** This extension's content script in a web page tab. */
export function isOwnContentScript(sender: SenderInfo, self: ExtensionIdentity): boolean {
  return sender.id === self.id && typeof sender.tab?.id === 'number' && sender.tab.id >= 0 && !isOwnExtensionPage(sender, self);
}
