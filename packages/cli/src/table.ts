// the one module, not the package's index: every command renders tables, and the index loads tar
import { humanDuration } from '@strata/inspect/human';

export interface Column {
  header: string;
  /** Field name, or a function of the record. */
  field: string | ((r: Record<string, unknown>) => unknown);
}

/** Docker-style table: columns separated by at least 3 spaces, left aligned. */
export function renderTable(records: Array<Record<string, unknown>>, columns: Column[]): string {
  const cell = (r: Record<string, unknown>, c: Column) => {
    const v = typeof c.field === 'function' ? c.field(r) : r[c.field];
    return v === undefined || v === null ? '' : String(v);
  };
  const rows = [columns.map((c) => c.header), ...records.map((r) => columns.map((c) => cell(r, c)))];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((v, i) => (i === row.length - 1 ? v : v.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n') + '\n';
}

// Docker's people-facing numbers (go-units), shared with `image history`.
export { humanSize } from '@strata/inspect/human';

/** "3 minutes ago" as Docker prints it. */
export function humanAgo(date: Date, now: Date): string {
  return `${humanDuration(now.getTime() - date.getTime())} ago`;
}
