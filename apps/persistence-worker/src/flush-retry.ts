/**
 * When a failed flush is tried again: after a backoff that doubles from 200 ms with each failure in a
 * row up to 25.6 s, each wait drawn between half of it and all of it so that workers failing together
 * (Postgres down) do not come back together. A success starts over; a flush someone waits for (a save,
 * a session end) may go at once.
 */
export class FlushRetry {
  private failuresInARow = 0;
  private at = 0;

  get failures(): number {
    return this.failuresInARow;
  }

  ready(now: number): boolean {
    return now >= this.at;
  }

  /** Count a failure; returns how long until the next try, in ms. */
  failed(now = Date.now()): number {
    this.failuresInARow += 1;
    const backoff = 100 * 2 ** Math.min(this.failuresInARow, 8);
    this.at = now + backoff / 2 + Math.random() * (backoff / 2);
    return this.at - now;
  }

  succeeded(): void {
    this.failuresInARow = 0;
  }

  /** Someone waits for a flush: try at the next step rather than at the end of the backoff. */
  now(): void {
    this.at = 0;
  }
}
