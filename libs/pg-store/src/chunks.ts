/**
 * Rows per bulk statement. Each statement sends one array per column (a handful of parameters however many
 * rows), so the bound is the message size, not Postgres's 65,535 parameters; a few thousand rows keeps
 * each statement well under a few megabytes while needing only tens of round trips for 100,000 rows.
 */
export const BULK_CHUNK_ROWS = 5_000;

export function* chunksOf<T>(items: readonly T[], size: number = BULK_CHUNK_ROWS): Generator<readonly T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}
