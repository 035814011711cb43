// Level colours of the console (1 = most urgent), one list for the map's markers, clusters and dots.
// The same values as the board's level badges (console CSS .level-1 … .level-5).
export const LEVEL_COLOURS: Readonly<Record<1 | 2 | 3 | 4 | 5, string>> = {
  1: '#b71c1c',
  2: '#e65100',
  3: '#f9a825',
  4: '#1565c0',
  5: '#607d8b',
};

/** A device without an open incident: present, nothing to do. */
export const QUIET_COLOUR = '#9e9e9e';

export function colourOf(level: number | null): string {
  return level !== null && level >= 1 && level <= 5 ? LEVEL_COLOURS[level as 1 | 2 | 3 | 4 | 5] : QUIET_COLOUR;
}

/** Most urgent first: the lower level number; features without a level last. */
export function urgency(level: number | null): number {
  return level ?? 99;
}
