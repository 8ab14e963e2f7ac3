import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import type { FileDigest } from './world-file';

/** A zip written entry by entry to `<path>.partial`, renamed to `path` only once it is complete. */
export interface ZipWriter {
  /** Stream `content` into the next entry; resolves with its size and sha256 once it is all written. */
  add(name: string, content: AsyncIterable<string>): Promise<FileDigest>;
  addBuffer(name: string, content: Buffer): void;
  /** Finish the zip and move it into place. */
  close(): Promise<void>;
  /** Give up: remove the partial file, so a failed export leaves nothing that looks like an export. */
  abort(): Promise<void>;
}

export function createZipWriter(path: string, mtime: Date): ZipWriter {
  const partial = `${path}.partial`;
  const zip = new ZipFile();
  const output = zip.outputStream as Readable;
  const written = pipeline(output, createWriteStream(partial));
  // A write that fails (no such folder, disk full) must also stop an entry being added, or it would
  // wait forever for yazl to read it.
  const writeFailed = written.then(() => new Promise<never>(() => {}));
  writeFailed.catch(() => {});

  return {
    async add(name, content) {
      const hash = createHash('sha256');
      let bytes = 0;
      const source = Readable.from(
        (async function* () {
          for await (const text of content) {
            const chunk = Buffer.from(text);
            hash.update(chunk);
            bytes += chunk.length;
            yield chunk;
          }
        })(),
      );
      zip.addReadStream(source, name, { mtime });
      await Promise.race([finished(source), writeFailed]);
      return { bytes, sha256: hash.digest('hex') };
    },
    addBuffer(name, content) {
      zip.addBuffer(content, name, { mtime });
    },
    async close() {
      zip.end();
      await written;
      await rename(partial, path);
    },
    async abort() {
      output.destroy();
      await written.catch(() => {});
      await rm(partial, { force: true });
    },
  };
}
