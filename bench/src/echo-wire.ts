/** What compare.ts and the echo service agree on (kept apart so the bench does not load NestJS). */
export const ECHO_SUBJECT = 'bench.echo';
export const ECHO_READY_LINE = 'echo service ready';
