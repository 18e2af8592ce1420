/**
 * Finds numbers no answer can carry. JSON.parse reads 1e309 as Infinity; Chrome's messaging then
 * sends it as null (JSON), Firefox's as Infinity (structured clone), and either way a schema for
 * numbers that mean something (a date, an accuracy) must refuse it.
 */

interface Step {
  value: unknown;
  key: string;
  parent: Step | null;
}

/** Where the first number in `value` that is not finite sits ("examples.3.createdAt"), or null if there is none. */
export function nonFinitePath(value: unknown): string | null {
  // Iterative, with each step pointing at its parent: a file nested a million levels deep must
  // neither overflow the stack nor copy its path at every level.
  const pending: Step[] = [{ value, key: '', parent: null }];
  for (let step = pending.pop(); step; step = pending.pop()) {
    const item = step.value;
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) return pathOf(step);
    } else if (typeof item === 'object' && item !== null) {
      const keys = Object.keys(item);
      // Pushed in reverse, so that the first in file order is found first.
      for (let i = keys.length - 1; i >= 0; i--) pending.push({ value: (item as Record<string, unknown>)[keys[i]!], key: keys[i]!, parent: step });
    }
  }
  return null;
}

/** A path as messages show it, cut short if a file made it long (its keys are the file's). */
function pathOf(step: Step): string {
  const keys: string[] = [];
  for (let at: Step | null = step; at?.parent; at = at.parent) keys.push(at.key);
  const joined = keys.length ? keys.reverse().join('.') : '(the whole file)';
  return joined.length > 120 ? `${joined.slice(0, 119)}…` : joined;
}
