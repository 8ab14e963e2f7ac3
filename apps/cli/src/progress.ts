import { SingleBar } from 'cli-progress';

/** A progress bar for long work; a no-op when stdout is not a terminal (pipes and CI get clean output). */
export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

/**
 * A bar on stderr labelled `label` ("folding events"), shown only when stdout is a terminal and the
 * work is worth showing: it appears after `delayMs`, so a command that finishes at once prints nothing.
 */
export function startProgress(
  label: string,
  total: number,
  options: { readonly enabled?: boolean; readonly delayMs?: number } = {},
): Progress {
  const enabled = options.enabled ?? (process.stdout.isTTY === true && process.stderr.isTTY === true);
  if (!enabled) return { update() {}, stop() {} };
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  });
  const shownAfter = Date.now() + (options.delayMs ?? 1_000);
  let shown = false;
  let current = 0;
  let size = total;
  return {
    update(done, newTotal) {
      current = done;
      if (newTotal !== undefined) size = newTotal;
      if (!shown && Date.now() >= shownAfter) {
        bar.start(size, current);
        shown = true;
      } else if (shown) {
        if (newTotal !== undefined) bar.setTotal(size);
        bar.update(current);
      }
    },
    stop() {
      if (shown) bar.stop();
    },
  };
}

/** A replay's progress callbacks (ReplayOptions), and stop for when it is over. */
export interface ReplayProgress {
  readonly onSnapshotRows: (read: number, total: number) => void;
  readonly onProgress: (folded: number, total: number) => void;
  stop(): void;
}

/**
 * Progress for a replay: the rows of the snapshot it starts from, then the events it folds, each on a
 * bar of its own (seconds each on a 1,000,000-entity world); a diff's second replay starts them again.
 */
export function startReplayProgress(start: typeof startProgress = startProgress): ReplayProgress {
  let phase: 'rows' | 'events' | undefined;
  let bar: Progress | undefined;
  const show = (next: 'rows' | 'events', label: string): Progress => {
    if (phase !== next || !bar) {
      bar?.stop();
      bar = start(label, 0);
      phase = next;
    }
    return bar;
  };
  return {
    onSnapshotRows: (read, total) => show('rows', 'reading the snapshot').update(read, total),
    onProgress: (folded, total) => show('events', 'folding events').update(folded, total),
    stop: () => bar?.stop(),
  };
}
