/**
 * Shadow roots as an extension sees them. Web components often hide their pictures in closed
 * shadow roots, which page scripts cannot open but content scripts can: Chrome through
 * chrome.dom.openOrClosedShadowRoot, Firefox through Element.openOrClosedShadowRoot.
 */

/** The only built-in elements that may host a shadow root (the DOM spec's list); custom elements may too. */
const SHADOW_HOST_TAGS = new Set([
  'article', 'aside', 'blockquote', 'body', 'div', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'header', 'main', 'nav', 'p', 'section', 'span',
]);

type FirefoxElement = Element & { openOrClosedShadowRoot?: ShadowRoot | null };

/** Spotter's own overlay hosts: not part of the page, so never searched for images. */
export const ownShadowHosts = new WeakSet<Element>();

/** The element's shadow root, open or closed; null if it has none (or it is Spotter's own). */
export function shadowRootOf(element: Element): ShadowRoot | null {
  if (ownShadowHosts.has(element)) return null;
  if (element.shadowRoot) return element.shadowRoot;
  // Asking the browser costs an API call: only for elements that can host a root at all.
  if (!SHADOW_HOST_TAGS.has(element.localName) && !element.localName.includes('-')) return null;
  if (__SPOTTER_BROWSER__ === 'firefox') return (element as FirefoxElement).openOrClosedShadowRoot ?? null;
  try {
    return globalThis.chrome?.dom?.openOrClosedShadowRoot(element as HTMLElement) ?? null;
  } catch {
    // Chrome checks the argument's class: an element of a same-origin iframe may not pass.
    return null;
  }
}
