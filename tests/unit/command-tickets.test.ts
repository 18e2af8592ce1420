/** The menu-click tickets that let a content script make one request (pure logic; storage.session is the browsers'). */
import { describe, expect, it } from 'vitest';
import { MAX_TICKETS_PER_FRAME, newTicket, useTicket, withTicket } from '../../src/background/command-tickets';

describe('command tickets', () => {
  const now = 1_000_000;
  const classify = newTicket(7, 0, 'classify-image', null, now);
  const labelTulips = newTicket(7, 0, 'add-example', 'tulips', now);
  const newLabel = newTicket(7, 3, 'add-example', null, now);

  it('allows the request the click was for, once, in that tab and frame only', () => {
    const first = useTicket([classify], { tabId: 7, frameId: 0, request: 'classify-image' }, now + 10);
    expect(first.allowed).toBe(true);
    expect(useTicket(first.left, { tabId: 7, frameId: 0, request: 'classify-image' }, now + 20).allowed).toBe(false);
    expect(useTicket([classify], { tabId: 8, frameId: 0, request: 'classify-image' }, now).allowed).toBe(false);
    expect(useTicket([classify], { tabId: 7, frameId: 1, request: 'classify-image' }, now).allowed).toBe(false);
    expect(useTicket([classify], { tabId: 7, frameId: 0, request: 'add-example', label: 'x' }, now).allowed).toBe(false);
  });

  it('holds a label item to its label; "New label…" takes what the user types', () => {
    expect(useTicket([labelTulips], { tabId: 7, frameId: 0, request: 'add-example', label: 'roses' }, now).allowed).toBe(false);
    expect(useTicket([labelTulips], { tabId: 7, frameId: 0, request: 'add-example', label: 'tulips' }, now).allowed).toBe(true);
    expect(useTicket([newLabel], { tabId: 7, frameId: 3, request: 'add-example', label: 'anything at all' }, now).allowed).toBe(true);
  });

  it('expires: a classification within a minute, a typed label within ten', () => {
    expect(useTicket([classify], { tabId: 7, frameId: 0, request: 'classify-image' }, now + 61_000)).toEqual({ allowed: false, left: [] });
    expect(useTicket([newLabel], { tabId: 7, frameId: 3, request: 'add-example', label: 'x' }, now + 9 * 60_000).allowed).toBe(true);
    expect(useTicket([newLabel], { tabId: 7, frameId: 3, request: 'add-example', label: 'x' }, now + 11 * 60_000).allowed).toBe(false);
  });

  it('uses up only the matching ticket', () => {
    const { left } = useTicket([classify, labelTulips, newLabel], { tabId: 7, frameId: 0, request: 'add-example', label: 'tulips' }, now);
    expect(left).toEqual([classify, newLabel]);
  });
  it('keeps a few unused clicks per frame, so quick clicks on several pictures each get their answer', () => {
    // Two classify clicks before either request arrives: both requests are allowed (a newer click used to replace the older ticket).
    let tickets = withTicket([], classify, now);
    tickets = withTicket(tickets, newTicket(7, 0, 'classify-image', null, now + 5), now + 5);
    const first = useTicket(tickets, { tabId: 7, frameId: 0, request: 'classify-image' }, now + 10);
    const second = useTicket(first.left, { tabId: 7, frameId: 0, request: 'classify-image' }, now + 11);
    expect([first.allowed, second.allowed]).toEqual([true, true]);
    expect(useTicket(second.left, { tabId: 7, frameId: 0, request: 'classify-image' }, now + 12).allowed).toBe(false);
  });

  it('drops the oldest unused ticket of a frame past the limit, and expired ones, not other frames\' tickets', () => {
    let tickets = withTicket([], newLabel, now); // frame 3
    for (let i = 0; i < MAX_TICKETS_PER_FRAME + 2; i++) tickets = withTicket(tickets, newTicket(7, 0, 'add-example', `label ${i}`, now + i), now + i);
    expect(tickets.filter((t) => t.frameId === 0).map((t) => t.label)).toEqual(['label 2', 'label 3', 'label 4']);
    expect(tickets.filter((t) => t.frameId === 3)).toEqual([newLabel]);
    const hourLater = now + 60 * 60_000;
    const fresh = newTicket(7, 0, 'classify-image', null, hourLater);
    expect(withTicket(tickets, fresh, hourLater)).toEqual([fresh]);
  });
});
