/** "100 %", "42 %", "<1 %": confidences as people read them. */
export function formatPercent(probability: number): string {
  if (!Number.isFinite(probability)) return '–';
  const percent = Math.round(probability * 100);
  if (percent < 1) return '<1 %';
  return `${Math.min(100, percent)} %`;
}

/** "0 %", "83 %": a share of examples predicted right (no "<1 %": none right is 0 %); "–" where nothing was measured. */
export function formatAccuracy(share: number | undefined): string {
  return share === undefined || !Number.isFinite(share) ? '–' : `${Math.round(share * 100)} %`;
}

/** "1 example", "2 examples", "0 labels": a count with its noun (regular plurals only). */
export function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
