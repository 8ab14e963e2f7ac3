/**
 * Why an import was refused before anything was written. `damaged`: the file does not match its own
 * manifest (truncated, altered); `invalid`: it is intact but its content breaks a rule. `problems`
 * lists every problem found when there are several (a world document's dangling references, say).
 */
export class ImportRefusedError extends Error {
  override readonly name = 'ImportRefusedError';

  constructor(
    readonly reason: string,
    readonly kind: 'damaged' | 'invalid',
    readonly problems: readonly string[] = [],
  ) {
    super(reason);
  }
}

export const damaged = (reason: string): ImportRefusedError => new ImportRefusedError(reason, 'damaged');

export const invalid = (reason: string, problems: readonly string[] = []): ImportRefusedError =>
  new ImportRefusedError(reason, 'invalid', problems);

/** The one-line message: "world.zip is damaged: ...; nothing was imported". */
export function refusalMessage(file: string, error: ImportRefusedError): string {
  const verdict = error.kind === 'damaged' ? 'is damaged' : 'was refused';
  return `${file} ${verdict}: ${error.reason}; nothing was imported`;
}
