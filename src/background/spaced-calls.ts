/**
 * Runs calls one at a time, each starting at least `spacingMs` after the previous one ended
 * (whether it succeeded or failed): for browser APIs with a rate quota.
 */
export function spacedCalls(spacingMs: number, now: () => number = Date.now): <T>(call: () => Promise<T>) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  let lastEndedAt = -Infinity;
  return <T>(call: () => Promise<T>) => {
    const next = queue.then(async () => {
      const wait = lastEndedAt + spacingMs - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        return await call();
      } finally {
        lastEndedAt = now();
      }
    });
    queue = next.catch(() => undefined);
    return next;
  };
}
