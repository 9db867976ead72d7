/** "did you mean" for unknown keys and values: the closest known word within a small distance. */
export function suggest(input: string, known: readonly string[]): string | undefined {
  const lowered = input.toLowerCase();
  const sameCase = known.find((word) => word.toLowerCase() === lowered);
  if (sameCase !== undefined) return sameCase;
  // A shortened or lengthened word (`agent` for `agent_id`, `resourcess`) is a likely slip too.
  if (lowered.length >= 3) {
    const affix = known.find((word) => {
      const candidate = word.toLowerCase();
      return candidate.startsWith(lowered) || lowered.startsWith(candidate);
    });
    if (affix !== undefined) return affix;
  }
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(input.length / 3)) + 1;
  for (const word of known) {
    const distance = editDistance(lowered, word.toLowerCase());
    if (distance < bestDistance) {
      best = word;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean "x"?)`, or nothing. */
export function didYouMean(input: string, known: readonly string[], quote = '"'): string {
  const guess = suggest(input, known);
  return guess === undefined ? '' : ` (did you mean ${quote}${guess}${quote}?)`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and transpositions. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = value;
    }
  }
  return d[rows * cols - 1]!;
}
