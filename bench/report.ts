// Shared output format of every benchmark: one JSON object per figure, printed last.
export interface Figure {
  metric: string;
  value: number;
  unit: string;
}

export function report(bench: string, figures: Figure[]): void {
  for (const f of figures) {
    console.log(JSON.stringify({ bench, metric: f.metric, value: Number(f.value.toPrecision(4)), unit: f.unit }));
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}
