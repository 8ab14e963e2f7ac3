/**
 * Orders one process's appends by the entities they touch: an append starts only once the appends
 * admitted before it that write an entity it writes or reads have sent their commits (or ended
 * without one). Appends on different entities still run side by side. Without it, appends racing on
 * one entity validate against the same version and all but one lose the commit's compare-and-set,
 * then redo alone (a hot player's gold and xp); with it they queue and each validates against its
 * predecessor's result, which the LiveCache holds as a prediction from the moment that commit is
 * sent. The commits then follow each other down one Redis connection, which runs them in order, so a
 * hot entity takes one append per Function call rather than one per round trip.
 *
 * Every append waits only on appends admitted before it, so waits cannot form a cycle.
 */
export class EntityOrder {
  /** `<campaign> <entity>` -> the last admitted append that writes it (settles once it sent or ended). */
  private readonly lastWriter = new Map<string, Promise<void>>();

  async run<T>(
    campaignId: string,
    writes: readonly string[],
    reads: readonly string[],
    task: (sent: () => void) => Promise<T>,
  ): Promise<T> {
    const before = new Set<Promise<void>>();
    for (const id of [...writes, ...reads]) {
      const writer = this.lastWriter.get(keyOf(campaignId, id));
      if (writer) before.add(writer);
    }
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const keys = writes.map((id) => keyOf(campaignId, id));
    for (const key of keys) this.lastWriter.set(key, mine);
    try {
      if (before.size > 0) await Promise.all(before);
      return await task(done);
    } finally {
      for (const key of keys) if (this.lastWriter.get(key) === mine) this.lastWriter.delete(key);
      done();
    }
  }

  /** Entities with an append running or waiting (for tests). */
  get size(): number {
    return this.lastWriter.size;
  }
}

function keyOf(campaignId: string, entityId: string): string {
  return `${campaignId} ${entityId}`;
}
