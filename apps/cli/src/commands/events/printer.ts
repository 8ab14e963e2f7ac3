import type { ListedEvent } from './listed-event';

export type EventFormat = 'table' | 'json' | 'jsonl';

/** Writes events as they come, so a long listing streams instead of filling memory. */
export interface EventPrinter {
  print(events: readonly ListedEvent[]): Promise<void>;
  end(): Promise<void>;
}

export function createPrinter(format: EventFormat, stream: NodeJS.WritableStream): EventPrinter {
  const write = (text: string) =>
    new Promise<void>((resolve) => {
      // Respect back-pressure: a slow reader (`| less`) must not make us buffer the whole log.
      if (stream.write(text)) resolve();
      else stream.once('drain', resolve);
    });
  let count = 0;
  switch (format) {
    case 'jsonl':
      return {
        print: (events) => write(events.map((event) => `${JSON.stringify(event)}\n`).join('')),
        end: async () => undefined,
      };
    case 'json':
      return {
        async print(events) {
          const items = events.map((event) => JSON.stringify(event));
          if (items.length === 0) return;
          await write(`${count === 0 ? '[\n' : ',\n'}${items.join(',\n')}`);
          count += items.length;
        },
        end: () => write(count === 0 ? '[]\n' : '\n]\n'),
      };
    case 'table':
      return {
        async print(events) {
          if (events.length === 0) return;
          await write(`${count === 0 ? `${tableRow(HEADER)}\n` : ''}${events.map(row).join('\n')}\n`);
          count += events.length;
        },
        end: async () => {
          if (count === 0) await write('no events\n');
        },
      };
  }
}

const HEADER = ['SEQ', 'RECORDED AT', 'SOURCE', 'TYPE', 'ENTITY', 'VER', 'DATA'] as const;
const WIDTHS = [8, 24, 7, 22, 24, 4] as const;

function row(event: ListedEvent): string {
  const data = JSON.stringify(event.data) ?? '';
  return tableRow([
    String(event.seq),
    event.recordedAt,
    event.source,
    event.transient ? `${event.type}~` : event.type,
    event.entityId,
    String(event.version),
    data.length > 60 ? `${data.slice(0, 59)}…` : data,
  ]);
}

function tableRow(cells: readonly string[]): string {
  return cells.map((cell, i) => (i < WIDTHS.length ? cell.padEnd(WIDTHS[i] as number) : cell)).join(' ');
}
