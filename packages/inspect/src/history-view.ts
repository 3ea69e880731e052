// The fields `docker history` prints for each row (its formatter's historyContext): truncated IDs
// and CREATED BY, human or exact sizes and dates. `--format` templates see these names.
import type { HistoryRow } from './history';
import { humanDuration, humanSize, rfc3339Local } from './human';
import { T, type GoType } from './go-value';

export interface HistoryView {
  Comment: string;
  CreatedAt: string;
  CreatedBy: string;
  CreatedSince: string;
  ID: string;
  Size: string;
}

export interface HistoryViewOptions {
  /** Shorten IDs to 12 hex digits and CREATED BY to 45 characters (default true). */
  trunc?: boolean;
  /** Human sizes and "3 weeks ago" (default true); otherwise bytes and RFC 3339 dates. */
  human?: boolean;
  now?: Date;
}

/** Docker's stringid.TruncateID. */
export function truncateId(id: string): string {
  const hex = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return hex.length > 12 ? hex.slice(0, 12) : hex;
}

/** Docker's stringutils.Ellipsis for display width `max`. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return `${chars.slice(0, max - 1).join('')}…`;
}

const MAX_DURATION_MS = 9_223_372_036_854.775;

export function historyView(rows: HistoryRow[], opts: HistoryViewOptions = {}): HistoryView[] {
  const trunc = opts.trunc ?? true;
  const human = opts.human ?? true;
  const now = (opts.now ?? new Date()).getTime();
  return rows.map((r) => {
    const created = r.created ?? -62135596800; // Go's zero time
    const createdAt = rfc3339Local(created);
    const createdBy = r.createdBy.replace(/\t/g, ' ');
    return {
      Comment: r.comment,
      CreatedAt: createdAt,
      CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
      // Go's time.Duration saturates at ~292 years (what Docker shows for entries without a date).
      CreatedSince: human ? `${humanDuration(Math.min(now - created * 1000, MAX_DURATION_MS))} ago` : createdAt,
      ID: trunc ? truncateId(r.id) : r.id,
      Size: human ? humanSize(r.size) : String(r.size),
    };
  });
}

/** Template type of a history row (`{{json .}}` escapes HTML like Docker's marshaller does). */
export const HISTORY_VIEW: GoType = {
  k: 'struct',
  name: 'formatter.historyContext',
  fields: ['Comment', 'CreatedAt', 'CreatedBy', 'CreatedSince', 'ID', 'Size'].map((name) => ({ name, t: T.string })),
  jsonEscapeHTML: true,
} as GoType;

export const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

/** Docker's default `history` table (CREATED AT instead of CREATED with -H=false). */
export function historyTableFormat(human: boolean): string {
  return `table {{.ID}}\t{{${human ? '.CreatedSince' : '.CreatedAt'}}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}`;
}
