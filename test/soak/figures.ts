// The soak's figures in the bench format (scripts/bench.mjs): one JSON object per line, printed
// last, each with its target and whether it was met. Targets are upper bounds (value ≤ target);
// a figure without a target is informational (target and met null).
export interface SoakFigure {
  bench: 'soak';
  metric: string;
  value: number;
  unit: string;
  target: number | null;
  met: boolean | null;
}

/** `met` defaults to value ≤ target; pass it when the target is about more than the value (a drain that timed out). */
export function figure(metric: string, value: number, unit: string, target: number | null = null, met?: boolean): SoakFigure {
  return { bench: 'soak', metric, value: Number(value.toPrecision(6)), unit, target, met: target === null ? null : (met ?? value <= target) };
}

export function allMet(figures: readonly SoakFigure[]): boolean {
  return figures.every((f) => f.met !== false);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
