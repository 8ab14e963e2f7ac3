import { writeJsonLines, writeJsonWithList } from './formats';

/** What the function wrote to stdout, and in how many writes. */
function captured(print: () => void): { text: string; writes: number } {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  try {
    print();
  } finally {
    spy.mockRestore();
  }
  return { text: chunks.join(''), writes: chunks.length };
}

describe('writeJsonWithList', () => {
  const cases: [string, Record<string, unknown>, unknown[]][] = [
    ['an empty list', { campaignId: 'c1', seq: 3 }, []],
    ['no head', {}, [{ id: 'player:alice' }]],
    [
      'nested values, strings with line breaks and quotes, unicode',
      { campaignId: 'c1', base: { name: 'created', seq: 0 }, incomplete: [], note: undefined },
      [
        {
          id: 'player:alice',
          kind: 'player',
          version: 2,
          state: { name: 'Al\nice "the bold"', tags: ['a', []] },
        },
        { id: 'item:é', kind: 'item', version: 1, state: {}, transient: true },
        'plain',
        7,
        null,
      ],
    ],
  ];
  it.each(cases)('prints what JSON.stringify(…, null, 2) prints: %s', (_label, head, items) => {
    const { text } = captured(() => writeJsonWithList(head, 'entities', items));
    expect(text).toBe(`${JSON.stringify({ ...head, entities: items }, null, 2)}\n`);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify({ ...head, entities: items })));
  });

  it('writes a long list in chunks, not one string', () => {
    const items = Array.from({ length: 5_000 }, (_, i) => ({
      id: `npc:n${i}`,
      state: { text: 'x'.repeat(400) },
    }));
    const { text, writes } = captured(() => writeJsonWithList({ seq: 1 }, 'entities', items));
    expect(text).toBe(`${JSON.stringify({ seq: 1, entities: items }, null, 2)}\n`);
    expect(writes).toBeGreaterThan(1);
  });
});

describe('writeJsonLines', () => {
  it('prints one JSON document per line, in chunks', () => {
    const items = Array.from({ length: 5_000 }, (_, i) => ({ id: `item:i${i}`, note: 'y'.repeat(300) }));
    const { text, writes } = captured(() => writeJsonLines(items));
    expect(text).toBe(items.map((item) => `${JSON.stringify(item)}\n`).join(''));
    expect(writes).toBeGreaterThan(1);
  });
});
