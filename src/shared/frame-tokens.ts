/**
 * One-time tokens that name a screen read from a frame inside another site's page
 * (content/frame-placement.ts). The background arms a read's token in every frame of the tab
 * before the frame posts it; Spotter's scripts relay armed tokens only.
 */

/** A global of the content scripts' isolated world, which scripting.executeScript shares and pages cannot reach. */
export const ARMED_TOKENS_GLOBAL = '__spotterArmedFrameTokens';
/** How long an armed token stays usable. */
export const ARMED_TOKEN_MS = 10_000;

/**
 * Run in every frame through scripting.executeScript (args: token, ARMED_TOKENS_GLOBAL,
 * ARMED_TOKEN_MS): serialised there, so self-contained, with its state in the world's global.
 */
export function armFrameToken(...args: unknown[]): void {
  const [token, key, keepMs] = args as [string, string, number];
  const world = globalThis as unknown as Record<string, Map<string, number> | undefined>;
  const armed = (world[key] ??= new Map<string, number>());
  for (const [old, at] of armed) if (Date.now() - at > keepMs) armed.delete(old);
  armed.set(token, Date.now());
}

/** In a content script: whether `token` is armed in this frame and unused; it is used up by asking. */
export function takeArmedToken(token: string): boolean {
  const armed = (globalThis as unknown as Record<string, Map<string, number> | undefined>)[ARMED_TOKENS_GLOBAL];
  const at = armed?.get(token);
  if (at === undefined) return false;
  armed!.delete(token);
  return Date.now() - at <= ARMED_TOKEN_MS;
}

export function newFrameToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(24)), (byte) => (byte % 36).toString(36)).join('');
}
