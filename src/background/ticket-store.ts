/**
 * Where the menu-click tickets (command-tickets.ts) are kept: storage.session, which content scripts
 * cannot read, so that tickets survive the background being stopped while the user types a label.
 */
import browser from 'webextension-polyfill';
import { newTicket, useTicket, withTicket, type Ticket, type TicketedRequest } from './command-tickets';

const STORAGE_KEY = 'commandTickets';
/** One read-modify-write at a time: two requests must not both use the same ticket. */
let queue: Promise<unknown> = Promise.resolve();

function update<T>(change: (tickets: Ticket[]) => { result: T; tickets: Ticket[] }): Promise<T> {
  const next = queue.then(async () => {
    const stored = (await browser.storage.session.get(STORAGE_KEY))[STORAGE_KEY];
    const { result, tickets } = change(Array.isArray(stored) ? (stored as Ticket[]) : []);
    await browser.storage.session.set({ [STORAGE_KEY]: tickets });
    return result;
  });
  queue = next.catch(() => undefined);
  return next;
}

export function issueTicket(tabId: number, frameId: number, request: TicketedRequest, label: string | null): Promise<void> {
  const now = Date.now();
  return update((tickets) => ({ result: undefined, tickets: withTicket(tickets, newTicket(tabId, frameId, request, label, now), now) }));
}

export function takeTicket(wanted: Omit<Ticket, 'expiresAt' | 'label'> & { label?: string }): Promise<boolean> {
  return update((tickets) => {
    const { allowed, left } = useTicket(tickets, wanted, Date.now());
    return { result: allowed, tickets: left };
  });
}
