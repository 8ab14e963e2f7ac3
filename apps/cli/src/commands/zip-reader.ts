import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Entry } from 'yauzl';
import { openPromise } from 'yauzl';

/** A zip opened for reading: its entries by name, each readable as often as needed. */
export interface ZipReader {
  readonly entries: ReadonlyMap<string, Entry>;
  /** A fresh stream of one entry's uncompressed content; yauzl checks it has exactly the recorded size. */
  open(name: string): Promise<Readable>;
  close(): void;
}

/** Open a zip and read its central directory; a truncated or foreign file is rejected here. */
export async function openZip(path: string): Promise<ZipReader> {
  const zip = await openPromise(path, { autoClose: false, strictFileNames: true });
  const entries = new Map<string, Entry>();
  try {
    for await (const entry of zip.eachEntry()) entries.set(entry.fileName, entry);
  } catch (error) {
    zip.close();
    throw error;
  }
  return {
    entries,
    async open(name) {
      const entry = entries.get(name);
      if (!entry) throw new Error(`${name} is not in the zip`);
      return zip.openReadStreamPromise(entry);
    },
    close() {
      zip.close();
    },
  };
}

/** An entry's content as text (for the small files and the world documents). */
export async function textOf(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

/** An entry's content line by line, holding no more than one chunk and one line in memory. */
export async function* linesOf(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of chunks) {
    const lines = (rest + decoder.write(chunk)).split('\n');
    rest = lines.pop() ?? '';
    yield* lines;
  }
  rest += decoder.end();
  if (rest !== '') yield rest;
}
