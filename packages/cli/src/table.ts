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

/** `docker`'s human sizes: 1000-based, 3 significant digits ("1.23MB", "512B"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** "3 minutes ago" as Docker prints it (go-units HumanDuration). */
export function humanAgo(date: Date, now = new Date()): string {
  const s = Math.max(0, Math.round((now.getTime() - date.getTime()) / 1000));
  if (s < 1) return 'Less than a second ago';
  if (s === 1) return '1 second ago';
  if (s < 60) return `${s} seconds ago`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute ago';
  if (m < 60) return `${m} minutes ago`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour ago';
  if (h < 48) return `${h} hours ago`;
  const d = h / 24;
  if (d < 7 * 2) return `${Math.round(d)} days ago`;
  if (d < 30 * 2) return `${Math.round(d / 7)} weeks ago`;
  if (d < 365 * 2) return `${Math.round(d / 30)} months ago`;
  return `${Math.round(d / 365)} years ago`;
}
