/** @kvlar/cli: the `kvlar` command. */
export function main(argv: readonly string[]): void {
  process.stdout.write(`kvlar ${argv.join(' ')}\n`);
}
