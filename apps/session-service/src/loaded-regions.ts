/**
 * The regions whose contents this process already made live for a campaign's session, so that a
 * `player.moved` into a neighbourhood it has seen costs no Postgres read and no Redis write. Keyed
 * by session id: a new session (after an end, or a Redis loss) starts from nothing. A region another
 * instance loaded is loaded again here at most once, which is harmless (`lk_load` never overwrites a
 * live entity). Bounded: past `maxCampaigns` the oldest campaign's entry is dropped, which only costs
 * a reload.
 */
export class LoadedRegions {
  private readonly campaigns = new Map<string, { sessionId: string; regions: Set<string> }>();

  constructor(private readonly maxCampaigns = 10_000) {}

  /** Those of `regionIds` not yet loaded for this session, in the order given. */
  missing(campaignId: string, sessionId: string, regionIds: Iterable<string>): string[] {
    const entry = this.campaigns.get(campaignId);
    const loaded = entry?.sessionId === sessionId ? entry.regions : undefined;
    return [...regionIds].filter((id) => !loaded?.has(id));
  }

  add(campaignId: string, sessionId: string, regionIds: Iterable<string>): void {
    let entry = this.campaigns.get(campaignId);
    if (entry?.sessionId !== sessionId) {
      entry = { sessionId, regions: new Set() };
      this.campaigns.delete(campaignId);
      this.campaigns.set(campaignId, entry);
      if (this.campaigns.size > this.maxCampaigns) {
        const oldest = this.campaigns.keys().next().value;
        if (oldest !== undefined) this.campaigns.delete(oldest);
      }
    }
    for (const id of regionIds) entry.regions.add(id);
  }

  forget(campaignId: string): void {
    this.campaigns.delete(campaignId);
  }
}
