import { encodeEntity } from '@lorekeeper/domain';
import type { LiveEntity } from '@lorekeeper/redis-store';
import { LiveCache } from './live-cache';

const at = (version: number, token = String(version), bytes = 100): LiveEntity => ({
  token,
  entity: token.startsWith('d') ? undefined : { id: 'player:a', kind: 'player', version, state: {} },
  transient: false,
  bytes,
});

describe('LiveCache', () => {
  it('answers only when it holds every id, for the same session', () => {
    const cache = new LiveCache(10_000);
    cache.remember('c', 's1', [
      ['player:a', at(1)],
      ['region:r', at(3)],
    ]);
    expect(cache.lookup('c', 's1', ['player:a', 'region:r'])?.get('player:a')?.token).toBe('1');
    expect(cache.lookup('c', 's1', ['player:a', 'player:b'])).toBeUndefined();
    expect(cache.lookup('c', 's2', ['player:a'])).toBeUndefined();
  });

  it('takes a transient entity it has not seen as absent, and only that', () => {
    const cache = new LiveCache(10_000);
    cache.remember('c', 's1', [['player:a', at(1)]]);
    const isTransient = (id: string) => id.startsWith('combat:');
    const found = cache.lookup('c', 's1', ['player:a', 'combat:new'], isTransient);
    expect(found?.get('combat:new')).toEqual({ token: '', entity: undefined, transient: true, bytes: 0 });
    expect(cache.lookup('c', 's1', ['player:a', 'player:b'], isTransient)).toBeUndefined();
    expect(cache.lookup('c', 's2', ['combat:new'], isTransient)).toBeUndefined();
    expect(cache.entities).toBe(1);
  });

  it('starts over for a new session, keeps no absent entity and never goes back a version', () => {
    const cache = new LiveCache(10_000);
    cache.remember('c', 's1', [['player:a', at(5)]]);
    cache.remember('c', 's1', [['player:a', at(4)]]);
    expect(cache.lookup('c', 's1', ['player:a'])?.get('player:a')?.token).toBe('5');
    cache.remember('c', 's1', [['player:a', at(6, 'd6')]]);
    expect(cache.lookup('c', 's1', ['player:a'])?.get('player:a')?.token).toBe('d6');
    cache.remember('c', 's1', [['player:b', { token: '', entity: undefined, transient: false, bytes: 0 }]]);
    expect(cache.lookup('c', 's1', ['player:b'])).toBeUndefined();
    cache.remember('c', 's2', [['player:a', at(1)]]);
    expect(cache.lookup('c', 's2', ['player:a'])?.get('player:a')?.token).toBe('1');
    expect(cache.entities).toBe(1);
    expect(cache.jsonBytes).toBe(100);
    cache.forgetEntity('c', 'player:a');
    expect(cache.lookup('c', 's2', ['player:a'])).toBeUndefined();
    expect([cache.entities, cache.jsonBytes]).toEqual([0, 0]);
  });

  it('holds a commit in flight as a prediction until it is confirmed, and never confirms a later one', () => {
    const cache = new LiveCache(10_000);
    cache.remember('c', 's1', [['player:a', at(4)]]);
    cache.predict('c', 's1', [['player:a', { ...at(5), predicted: '{"v":5}' }]]);
    expect(cache.lookup('c', 's1', ['player:a'])?.get('player:a')).toMatchObject({
      token: '5',
      predicted: '{"v":5}',
    });
    // Redis answered a read from before the commit: the prediction stays.
    cache.remember('c', 's1', [['player:a', at(4)]]);
    expect(cache.lookup('c', 's1', ['player:a'])?.get('player:a')?.predicted).toBe('{"v":5}');

    // A second commit predicted on the first; the first's confirmation leaves the second's alone.
    cache.predict('c', 's1', [['player:a', { ...at(6), predicted: '{"v":6}' }]]);
    cache.confirm('c', 'player:a', '5');
    expect(cache.lookup('c', 's1', ['player:a'])?.get('player:a')?.predicted).toBe('{"v":6}');
    cache.confirm('c', 'player:a', '6');
    expect(cache.lookup('c', 's1', ['player:a'])?.get('player:a')).toEqual(at(6));

    // A commit that did not hold: its prediction is dropped.
    cache.predict('c', 's1', [['player:a', { ...at(7), predicted: '{"v":7}' }]]);
    cache.forgetEntity('c', 'player:a');
    expect(cache.lookup('c', 's1', ['player:a'])).toBeUndefined();
    expect(cache.entities).toBe(0);
  });

  it('drops the least recently used campaign past its bound in bytes', () => {
    const cache = new LiveCache(400);
    cache.remember('old', 's', [
      ['player:a', at(1)],
      ['player:b', at(1)],
    ]);
    cache.remember('used', 's', [['player:a', at(1)]]);
    cache.remember('new', 's', [['player:a', at(1)]]);
    expect(cache.lookup('old', 's', ['player:a'])).toBeDefined();
    // 'used' is now the least recently used: the next campaign pushes it out.
    cache.remember('newer', 's', [['player:a', at(1)]]);
    expect(cache.lookup('used', 's', ['player:a'])).toBeUndefined();
    expect(cache.lookup('old', 's', ['player:a', 'player:b'])).toBeDefined();
    expect([cache.entities, cache.jsonBytes]).toEqual([4, 400]);
    // One entity bigger than the whole bound is not kept at all.
    cache.remember('huge', 's', [['player:a', at(1, '1', 1_000)]]);
    expect(cache.lookup('huge', 's', ['player:a'])).toBeUndefined();
    expect(cache.jsonBytes).toBeLessThanOrEqual(400);
    const off = new LiveCache(0);
    off.remember('c', 's', [['player:a', at(1)]]);
    expect(off.lookup('c', 's', ['player:a'])).toBeUndefined();
  });

  it('keeps what a session start loaded as JSON, parsed on first lookup, ordered by version like the rest', () => {
    const cache = new LiveCache(10_000);
    const alice = { id: 'player:a', kind: 'player', version: 3, state: { gold: 5 } };
    const loaded = [encodeEntity(alice), encodeEntity({ ...alice, id: 'player:b', version: 1 })];
    cache.rememberLoaded('c', 's1', loaded);
    expect([cache.entities, cache.jsonBytes]).toEqual([2, loaded[0]!.json.length + loaded[1]!.json.length]);
    const found = cache.lookup('c', 's1', ['player:a'])?.get('player:a');
    expect(found).toEqual({ token: '3', entity: alice, transient: false, bytes: loaded[0]!.json.length });
    // Parsed once: the next lookup answers the same object.
    expect(cache.lookup('c', 's1', ['player:a'])?.get('player:a')?.entity).toBe(found?.entity);
    // An older write does not replace a loaded entry; a newer one does, and the bytes follow.
    cache.remember('c', 's1', [['player:b', at(0)]]);
    expect(cache.lookup('c', 's1', ['player:b'])?.get('player:b')?.token).toBe('1');
    cache.remember('c', 's1', [['player:b', at(2)]]);
    expect(cache.lookup('c', 's1', ['player:b'])?.get('player:b')?.token).toBe('2');
    expect(cache.jsonBytes).toBe(loaded[0]!.json.length + 100);
    // Nor does a start loading an older copy replace what an append wrote since.
    cache.rememberLoaded('c', 's1', [encodeEntity({ ...alice, version: 2 })]);
    expect(cache.lookup('c', 's1', ['player:a'])?.get('player:a')?.token).toBe('3');
    cache.forget('c');
    expect([cache.entities, cache.jsonBytes]).toEqual([0, 0]);
  });
});
