/** SQLSTATE codes this lib reacts to (https://www.postgresql.org/docs/15/errcodes-appendix.html). */
export const SQLSTATE = {
  uniqueViolation: '23505',
  duplicateDatabase: '42P04',
  invalidCatalogName: '3D000',
  objectInUse: '55006',
} as const;

/** The SQLSTATE of an error from `pg`, if it has one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
