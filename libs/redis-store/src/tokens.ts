/**
 * Version tokens as the Functions compare them: "" for an absent entity, "7" for a live one at
 * version 7, "d7" for one destroyed by its 7th event (kept until that is durable).
 */
export const ABSENT = '';

export const liveToken = (version: number): string => String(version);
export const tombstoneToken = (version: number): string => `d${version}`;

export function isTombstone(token: string): boolean {
  return token.startsWith('d');
}

/** The version a token records (0 for an absent entity). */
export function versionOfToken(token: string): number {
  if (token === ABSENT) return 0;
  return Number(isTombstone(token) ? token.slice(1) : token);
}
