/** The CLI's exit codes; scripts and CI depend on them, so they only ever gain new values. */
export const EXIT = {
  ok: 0,
  /** The operation was refused or failed (a migration error, a domain error). */
  failed: 1,
  /** Bad arguments, options or configuration (environment variables). */
  usage: 2,
  /** PostgreSQL (or another service) could not be reached. */
  unreachable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
