/** Renders rows as a plain text table with a header line. */
export function table(columns: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = [columns, ...rows.map((r) => r.map((c) => (c === undefined ? '' : String(c))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}
