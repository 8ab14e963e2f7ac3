import type { DeadLetter } from '@lorekeeper/pg-store';

/** The event a dead letter holds, as far as its payload says (a broken entry may say nothing). */
export function eventOf(letter: DeadLetter): { type: string; entityId: string } {
  const payload = (letter.payload ?? {}) as { type?: unknown; entityId?: unknown };
  return {
    type: typeof payload.type === 'string' ? payload.type : '?',
    entityId: typeof payload.entityId === 'string' ? payload.entityId : '?',
  };
}

/** A dead letter for --json: the fields an operator reads, plus the payload. */
export function letterJson(letter: DeadLetter) {
  return { ...letter, ...eventOf(letter) };
}

export function describeLetters(letters: readonly DeadLetter[], all: boolean): string {
  if (letters.length === 0) return all ? 'no dead letters' : 'no open dead letters';
  const header = ['ID', 'CAMPAIGN', 'SEQ', 'TYPE', 'ENTITY', 'STATUS', 'WHEN', 'ERROR'];
  const rows = letters.map((letter) => {
    const { type, entityId } = eventOf(letter);
    const resolution =
      letter.status === 'open'
        ? ''
        : ` (${letter.status} by ${letter.resolvedBy ?? '?'}${letter.resolutionReason ? `: ${letter.resolutionReason}` : ''})`;
    return [
      String(letter.id),
      letter.campaignId,
      letter.seq === null ? letter.streamId : String(letter.seq),
      type,
      entityId,
      letter.attempts > 1 ? `${letter.status} x${letter.attempts}` : letter.status,
      letter.createdAt.toISOString(),
      `${letter.error}${resolution}`,
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (values: readonly string[]) =>
    values.map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export function describeLetter(letter: DeadLetter): string {
  const { type, entityId } = eventOf(letter);
  return (
    `dead letter ${letter.id} of campaign ${letter.campaignId}: seq ${letter.seq ?? '?'} (${letter.streamId}), ` +
    `${type} on ${entityId}, recorded ${letter.createdAt.toISOString()} after ${letter.attempts} attempt(s)\n` +
    `  error: ${letter.error}\n  payload: ${JSON.stringify(letter.payload)}`
  );
}
