import { loadavg } from 'node:os';

/** The median of the figures (the mean of the middle two when their number is even, as with 2 or 4 rounds). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The machine's load averages over 1, 5 and 15 minutes, as the benches print them next to their figures. */
export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}
