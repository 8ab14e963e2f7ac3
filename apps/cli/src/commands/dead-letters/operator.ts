import { hostname, userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';

/** Who is resolving a dead letter: the OS user name and host, recorded in the letter. */
export function operatorName(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // A container user without a passwd entry: still record the host.
  }
  return `${user}@${hostname()}`;
}

/** Ask on the terminal; true only when the answer is exactly `expected`. */
export async function confirmByTyping(question: string, expected: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await prompt.question(question)).trim() === expected;
  } finally {
    prompt.close();
  }
}
