/**
 * The lowest seq each campaign's Redis counter may hold, as far as this process knows: the Postgres
 * checkpoint seen at session start, raised by every batch this process committed. A Redis restarted
 * from an older AOF (or a replica promoted behind) has a counter below it; appending there would hand
 * out seqs again and build on stale state, so the append is refused and the campaign reloaded from
 * Postgres (DESIGN.md, failure model). Per process: another instance's appends raise only its own.
 */
export class SeqFloors {
  private readonly floors = new Map<string, number>();

  /** 0 when this process knows nothing of the campaign (the check is then skipped). */
  of(campaignId: string): number {
    return this.floors.get(campaignId) ?? 0;
  }

  raise(campaignId: string, seq: number): void {
    if (seq > this.of(campaignId)) this.floors.set(campaignId, seq);
  }

  /** A session (re)started at `seq`: after a reload from Postgres the floor moves down to it. */
  reset(campaignId: string, seq: number): void {
    this.floors.set(campaignId, seq);
  }

  forget(campaignId: string): void {
    this.floors.delete(campaignId);
  }
}
