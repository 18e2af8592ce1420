/**
 * A content script may ask the engine for something only right after the user chose Spotter in
 * the right-click menu of that frame. Without this, a page whose renderer is compromised could use
 * Spotter to look at other sites' images or fill the user's dataset. A menu click issues one
 * ticket for its tab and frame (both stamped by the browser); the request it allows uses it up.
 * The rules are here; ticket-store.ts keeps the tickets.
 */

export type TicketedRequest = 'classify-image' | 'add-example';

export interface Ticket {
  tabId: number;
  frameId: number;
  request: TicketedRequest;
  /** The label the menu item named; null for "New label…", where the user types it in the page. */
  label: string | null;
  expiresAt: number;
}

/** A classification starts at once; a new label waits for the user to type it. */
const LIFETIME_MS: Record<TicketedRequest, number> = { 'classify-image': 60_000, 'add-example': 10 * 60_000 };

export function newTicket(tabId: number, frameId: number, request: TicketedRequest, label: string | null, now: number): Ticket {
  return { tabId, frameId, request, label, expiresAt: now + LIFETIME_MS[request] };
}

/** Finds the ticket that allows this request, and returns the tickets left once it is used up (expired ones dropped). */
export function useTicket(tickets: readonly Ticket[], wanted: Omit<Ticket, 'expiresAt' | 'label'> & { label?: string }, now: number): { allowed: boolean; left: Ticket[] } {
  const live = tickets.filter((ticket) => ticket.expiresAt > now);
  const index = live.findIndex(
    (ticket) =>
      ticket.tabId === wanted.tabId &&
      ticket.frameId === wanted.frameId &&
      ticket.request === wanted.request &&
      (ticket.label === null || ticket.label === wanted.label),
  );
  if (index < 0) return { allowed: false, left: live };
  return { allowed: true, left: live.filter((_, i) => i !== index) };
}
