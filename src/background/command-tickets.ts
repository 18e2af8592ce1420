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

/**
 * Unused tickets a frame may hold at once: quick clicks on several pictures each get their answer
 * (a newer click used to replace the older unused ticket, and the second request was refused),
 * while a page that never asks cannot pile them up.
 */
export const MAX_TICKETS_PER_FRAME = 3;

/** The tickets after a menu click issued `ticket`: expired ones dropped, and the frame's oldest past the limit. */
export function withTicket(tickets: readonly Ticket[], ticket: Ticket, now: number): Ticket[] {
  const live = tickets.filter((t) => t.expiresAt > now);
  const sameFrame = (t: Ticket) => t.tabId === ticket.tabId && t.frameId === ticket.frameId;
  const excess = live.filter(sameFrame).length + 1 - MAX_TICKETS_PER_FRAME;
  let dropped = 0;
  // Oldest first: tickets are kept in the order they were issued.
  return [...live.filter((t) => !(sameFrame(t) && dropped++ < excess)), ticket];
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
