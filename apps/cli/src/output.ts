/**
 * Where a command's answer goes: human text on stdout, or with `--json` exactly one JSON document on
 * stdout (so `lorekeeper migrate --json | jq` works). Diagnostics always go to stderr.
 */
export interface Output {
  readonly json: boolean;
  /** Print the command's result: `data` as JSON, or `human()` as text. */
  result(data: unknown, human: () => string): void;
  /** A diagnostic line on stderr, in both modes. */
  warn(message: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(data, human) {
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
    },
    warn(message) {
      process.stderr.write(`${message}\n`);
    },
  };
}
