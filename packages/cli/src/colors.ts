/** ANSI colours for one output stream, or identity functions when that stream gets none. */
export interface Painter {
  readonly enabled: boolean;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

/**
 * Colours only for a terminal: piped output (tests, scripts, the Python SDK) stays plain.
 * NO_COLOR (any non-empty value, see no-color.org) and TERM=dumb turn them off; FORCE_COLOR
 * turns them on for a pipe, e.g. for a pager that understands them.
 */
export function colorsWanted(
  stream: { readonly isTTY?: boolean | undefined },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (nonEmpty(env.NO_COLOR)) return false;
  if (nonEmpty(env.FORCE_COLOR) && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export function createPainter(enabled: boolean): Painter {
  const style =
    (open: number, close: number) =>
    (text: string): string =>
      enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    enabled,
    green: style(32, 39),
    red: style(31, 39),
    yellow: style(33, 39),
    bold: style(1, 22),
    dim: style(2, 22),
  };
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
