/**
 * Terminal output helpers shared by the commands: JSON for --json, aligned tables otherwise, and dates in
 * one format. Commands never print secrets; config values pass through `redact` first.
 */

/** Prints a value as pretty JSON (for --json). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as an aligned table with a header line. Cells are stringified; empty values show as "-". */
export function printTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const cells = rows.map((row) => row.map(formatCell));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...cells.map((row) => row[column]?.length ?? 0)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, column) => value.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(headers)}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}

function formatCell(cell: unknown): string {
  if (cell === null || cell === undefined || cell === '') return '-';
  return typeof cell === 'string' ? cell : (JSON.stringify(cell) ?? '-');
}

/** Epoch ms as `YYYY-MM-DD HH:MM:SS` UTC, or null. */
export function formatTime(epochMs: number | null | undefined): string | null {
  if (epochMs === null || epochMs === undefined) return null;
  return new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19);
}

/** Replaces every occurrence of a secret value in `text` by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (secret.length > 0) result = result.split(secret).join('***');
  return result;
}
