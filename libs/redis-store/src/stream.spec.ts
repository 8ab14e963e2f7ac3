import type { ReadEntry } from './consumer';
import { decodedWhole } from './consumer';
import {
  EVENT_FIELD,
  TypeOnlyEvent,
  decodeEntry,
  decodeEntryFor,
  decodeEntryWithJson,
  streamEventJson,
  withoutJson,
} from './stream';

// The worker reads transient events by type only: it writes nothing of them, and parsing their data and
// meta was nearly half of its decoding in a catch-up. What it is given must still be the same event.
describe('decodeEntryFor', () => {
  const meta = '{"sessionId":"s1","batchId":"b1","at":"2026-12-07T16:00:00.000Z"}';
  const combat = streamEventJson(
    { type: 'combat.started', entityId: 'combat:c1', version: 1, data: { participantIds: ['player:a'] } },
    meta,
  );
  const gold = streamEventJson(
    { type: 'player.gold.changed', entityId: 'player:a', version: 7, data: { delta: 5 } },
    meta,
  );
  const transient = (type: string) => type.startsWith('combat.');

  it('reads a transient entry by type, entity and version, and parses the rest only when asked', () => {
    const event = decodeEntryFor('12-0', [EVENT_FIELD, combat], transient);
    expect(event).toBeInstanceOf(TypeOnlyEvent);
    expect(event).toMatchObject({
      streamId: '12-0',
      seq: 12,
      type: 'combat.started',
      entityId: 'combat:c1',
      version: 1,
    });
    // Parsed on first use, and the same as decoding it whole.
    const whole = decodeEntry('12-0', [EVENT_FIELD, combat]);
    expect(event.data).toEqual(whole.data);
    expect(event.meta).toEqual(whole.meta);
    expect(withoutJson(event)).toEqual(whole);
    expect(JSON.parse(JSON.stringify(withoutJson(event)))).toEqual(whole);
  });

  it('decodes whole, with the entry JSON for the archive, every entry of another type', () => {
    const event = decodeEntryFor('13-0', [EVENT_FIELD, gold], transient);
    expect(event).not.toBeInstanceOf(TypeOnlyEvent);
    expect(event).toEqual({ ...decodeEntry('13-0', [EVENT_FIELD, gold]), json: gold });
  });

  it.each([
    [
      'keys in another order',
      `{"entityId":"combat:c1","type":"combat.started","version":1,"data":{},"meta":${meta}}`,
    ],
    [
      'an escaped entity id',
      `{"type":"combat.started","entityId":"combat:\\"c1","version":1,"data":{},"meta":${meta}}`,
    ],
    [
      'a version that is not an integer',
      `{"type":"combat.started","entityId":"combat:c1","version":"1","data":{},"meta":${meta}}`,
    ],
    ['an empty entity id', `{"type":"combat.started","entityId":"","version":1,"data":{},"meta":${meta}}`],
    ['a text cut short', combat.slice(0, -1)],
  ])('decodes whole, as decodeEntryWithJson does, an entry laid out otherwise: %s', (_, text) => {
    const outcome = (decode: () => unknown) => {
      try {
        return decode();
      } catch (error) {
        return { threw: String(error) };
      }
    };
    const event = outcome(() => decodeEntryFor('14-0', [EVENT_FIELD, text], transient));
    expect(event).not.toBeInstanceOf(TypeOnlyEvent);
    expect(event).toEqual(outcome(() => decodeEntryWithJson('14-0', [EVENT_FIELD, text])));
  });

  it('throws on use, and a dead letter keeps the raw text, when the rest turns out not to be JSON', () => {
    const broken = combat.replace('"participantIds":[', '"participantIds":[,');
    const event = decodeEntryFor('15-0', [EVENT_FIELD, broken], transient);
    expect(event).toBeInstanceOf(TypeOnlyEvent);
    expect(() => event.meta).toThrow(/JSON/);
    const entry: ReadEntry = { ok: true, streamId: '15-0', event, bytes: broken.length + 5 };
    expect(decodedWhole(entry)).toMatchObject({ ok: false, streamId: '15-0', fields: [EVENT_FIELD, broken] });
  });
});
