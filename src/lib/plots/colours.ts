// Colours shared by the figures.
import * as Plot from '@observablehq/plot';

/** `n` viridis colours for ordered series, stopping short of its pale yellow end (unreadable on white). */
export function viridisSeries(n: number): string[] {
  const viridis = Plot.scale({ color: { type: 'sequential', scheme: 'viridis', domain: [0, 1] } });
  return Array.from({ length: n }, (_, i) => viridis.apply(n === 1 ? 0.3 : (0.85 * i) / (n - 1)) as string);
}
