// Final JSON lines of a benchmark that states its targets (issue 12, "honest benchmarks"): each
// figure says its target, whether it was met, and whether it was measured or computed.
export interface TargetedFigure {
  metric: string;
  value: number;
  unit: string;
  /** Human-readable target, e.g. ">= 2000". */
  target: string;
  met: boolean;
  /** False when the figure is derived (computed) from other figures rather than observed. */
  measured: boolean;
}

export function reportWithTargets(bench: string, figures: TargetedFigure[]): void {
  for (const f of figures) {
    const value = Number.isFinite(f.value) ? Number(f.value.toPrecision(4)) : null;
    console.log(JSON.stringify({ bench, metric: f.metric, value, unit: f.unit, target: f.target, met: f.met, measured: f.measured }));
  }
}

export function atLeast(metric: string, value: number, unit: string, target: number): TargetedFigure {
  return { metric, value, unit, target: `>= ${target}`, met: value >= target, measured: true };
}

export function atMost(metric: string, value: number, unit: string, target: number): TargetedFigure {
  return { metric, value, unit, target: `<= ${target}`, met: value <= target, measured: true };
}
