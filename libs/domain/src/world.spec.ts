import type { Entity } from './index';
import { EMPTY_WORLD, LorekeeperError, WORLD_FORMAT, parseWorldDocument } from './index';
import { generateWorld, tinyWorld } from '@lorekeeper/testing';

/** The problems parseWorldDocument reports for `raw`; fails the test if it accepts the document. */
function problemsOf(raw: unknown): string[] {
  try {
    parseWorldDocument(raw);
  } catch (error) {
    if (!(error instanceof LorekeeperError)) throw error;
    expect(error.code).toBe('BAD_REQUEST');
    return error.details?.['problems'] as string[];
  }
  throw new Error('expected the document to be refused, but it was accepted');
}

const region = (id: string, neighbors: string[] = []): Entity => ({
  id,
  kind: 'region',
  version: 0,
  state: { name: id, neighbors },
});
const document = (entities: unknown[], header: object = {}) => ({
  format: WORLD_FORMAT,
  campaignId: 'c1',
  name: 'Test',
  seq: 0,
  entities,
  ...header,
});

describe('parseWorldDocument', () => {
  it('accepts a generated 10,000-entity world as it is', () => {
    const generated = generateWorld({
      campaignId: 'big',
      regions: 400,
      players: 100,
      npcs: 2500,
      items: 5000,
      quests: 1499,
      worldEvents: 500,
      seed: 2024,
    });
    expect(generated.entities).toHaveLength(10_000);
    expect(parseWorldDocument(generated)).toEqual(generated);
  });

  it('accepts the tiny world', () => {
    expect(parseWorldDocument(tinyWorld)).toEqual(tinyWorld);
  });

  it('adds an empty world entity when the document has none', () => {
    const parsed = parseWorldDocument(document([region('region:vale')]));
    expect(parsed.entities).toEqual([EMPTY_WORLD, region('region:vale')]);
  });

  it('keeps entity versions and the seq of an exported document', () => {
    const exported = document([{ ...region('region:vale'), version: 12 }], { seq: 40 });
    expect(parseWorldDocument(exported)).toMatchObject({
      seq: 40,
      entities: [EMPTY_WORLD, { id: 'region:vale', version: 12 }],
    });
  });

  it.each([null, 'world', [], 7])('refuses a document that is not an object: %j', (raw) => {
    expect(problemsOf(raw)).not.toHaveLength(0);
  });

  it('refuses a document with several problems at once, listing every one of them', () => {
    const problems = problemsOf(
      document(
        [
          region('region:vale', ['region:atlantis']), // dangling neighbour
          region('region:vale'), // duplicate id
          { id: 'dragon:smaug', kind: 'dragon', version: 0, state: {} }, // unknown kind
          { id: 'npc:imp', kind: 'npc', version: 0, state: { name: 'Imp', regionId: 'region:vale', hp: -1 } },
          { id: 'combat:c1', kind: 'combat', version: 0, state: {} }, // transient kind
          { id: 'npc:mimic', kind: 'player', version: 0, state: {} }, // prefix names another kind
          {
            id: 'player:carol',
            kind: 'player',
            version: 0,
            state: { name: 'Carol', regionId: 'region:lost', gold: 0, xp: 0 },
          },
          { id: 'world:second', kind: 'world', version: 0, state: { flags: {} } }, // not the singleton
          { id: 'item:x', kind: 'item', version: -1, state: {} }, // bad version
          JSON.parse('{"id":"world","kind":"world","version":0,"state":{"flags":{"__proto__":{}}}}'),
        ],
        { format: 'lorekeeper.world/2' },
      ),
    );
    const expected = [
      'format: Invalid input: expected "lorekeeper.world/1"',
      'entities.0 (region:vale).state.neighbors.0: dangling reference to region:atlantis',
      'entities.1 (region:vale): duplicate id, first used by entities.0',
      'entities.2 (dragon:smaug): unknown kind "dragon"; known kinds are',
      'entities.3 (npc:imp).state.hp: Too small',
      'entities.3 (npc:imp).state.status: Invalid option',
      'entities.4 (combat:c1): combat is transient and cannot be part of a world document',
      'entities.5 (npc:mimic): id names a npc but kind is "player"',
      'entities.6 (player:carol).state.regionId: dangling reference to region:lost',
      'entities.7.id: must be an entity id such as player:alice',
      'entities.8.version: Too small',
      'entities.9 (world).state: key "__proto__" is not allowed',
    ];
    for (const part of expected) expect(problems).toContainEqual(expect.stringContaining(part));
    expect(problems.length).toBeGreaterThanOrEqual(expected.length);
  });

  it('says how many problems there are and summarises the first five in the message', () => {
    const raw = document(
      Array.from({ length: 8 }, (_, i) => ({ id: `dragon:d${i}`, kind: 'dragon', version: 0, state: {} })),
    );
    expect(() => parseWorldDocument(raw)).toThrow(/world document has 8 problem\(s\): .*; and 3 more$/);
  });

  it('refuses a reference to an entity of the wrong kind', () => {
    // region:fake claims to be an npc: its prefix problem is reported, and so is the player standing "in" it.
    const problems = problemsOf(
      document([
        {
          id: 'region:fake',
          kind: 'npc',
          version: 0,
          state: { name: 'Fake', regionId: 'region:real', hp: 1, status: 'alive' },
        },
        region('region:real'),
        {
          id: 'player:dan',
          kind: 'player',
          version: 0,
          state: { name: 'Dan', regionId: 'region:fake', gold: 0, xp: 0 },
        },
      ]),
    );
    expect(problems).toEqual([
      'entities.0 (region:fake): id names a region but kind is "npc"',
      'entities.2 (player:dan).state.regionId: region:fake is a npc, expected a region',
    ]);
  });

  it('refuses a bad header and still reports the entity problems', () => {
    const problems = problemsOf(
      document([region('region:vale', ['region:gone'])], { campaignId: 'a.b', seq: -1 }),
    );
    expect(problems).toEqual([
      'campaignId: must match ^[A-Za-z0-9_-]{1,64}$',
      'seq: Too small: expected number to be >=0',
      'entities.0 (region:vale).state.neighbors.0: dangling reference to region:gone',
    ]);
  });

  it('refuses a field the document does not define', () => {
    expect(problemsOf(document([], { author: 'me' }))).toEqual(['Unrecognized key: "author"']);
  });
});
