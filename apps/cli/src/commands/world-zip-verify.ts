import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { damaged } from './import-refusal';
import type { ContentFile, Manifest } from './world-file';
import { CONTENT_FILES, MANIFEST_FILE, parseManifest } from './world-file';
import type { ZipReader } from './zip-reader';
import { textOf } from './zip-reader';

/** The manifest is a few hundred bytes; anything far bigger is not one, and is not read into memory. */
const MAX_MANIFEST_BYTES = 64 * 1024;

/**
 * Check a world zip against its manifest before anything is parsed or written: exactly the expected
 * files, each of the size and sha256 the manifest gives. Returns the manifest; throws a
 * `damaged` ImportRefusedError.
 * `onBytes` is told how many bytes have been checked so far.
 */
export async function verifyWorldZip(
  zip: ZipReader,
  onBytes: (checked: number) => void = () => {},
): Promise<Manifest> {
  const expected = new Set<string>([...CONTENT_FILES, MANIFEST_FILE]);
  for (const name of expected) if (!zip.entries.has(name)) throw damaged(`${name} is missing`);
  for (const name of zip.entries.keys()) if (!expected.has(name)) throw damaged(`unexpected file ${name}`);

  const manifest = await readManifest(zip);
  let checked = 0;
  for (const name of CONTENT_FILES) {
    const want = manifest.files[name];
    const size = zip.entries.get(name)?.uncompressedSize;
    if (size !== want.bytes) throw damaged(`${name} is ${size} bytes, the manifest says ${want.bytes}`);
    const got = await digestOf(await zip.open(name), (bytes) => onBytes(checked + bytes));
    checked += got.bytes;
    if (got.sha256 !== want.sha256) {
      throw damaged(`${name} checksum mismatch (expected ${short(want.sha256)}, got ${short(got.sha256)})`);
    }
  }
  return manifest;
}

async function readManifest(zip: ZipReader): Promise<Manifest> {
  const size = zip.entries.get(MANIFEST_FILE)?.uncompressedSize ?? 0;
  if (size > MAX_MANIFEST_BYTES) throw damaged(`${MANIFEST_FILE} is ${size} bytes, too big to be a manifest`);
  let raw: unknown;
  try {
    raw = JSON.parse(await textOf(await zip.open(MANIFEST_FILE)));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw damaged(`${MANIFEST_FILE} is not JSON (${error.message})`);
  }
  const manifest = parseManifest(raw);
  if (typeof manifest === 'string') throw damaged(manifest);
  return manifest;
}

/** The sha256 and size of a stream's content. */
export async function digestOf(
  stream: Readable,
  onBytes: (bytes: number) => void = () => {},
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    onBytes(bytes);
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Enough of a checksum to tell two apart in a message. */
function short(sha256: string): string {
  return `${sha256.slice(0, 12)}…`;
}

/**
 * A verified file's content for the passes after verification, checked again as it streams by: should
 * the zip change on disk in between, the pass ends with a `damaged` error (inside the import's
 * transaction, which then rolls back) rather than importing content nobody verified.
 */
export async function* verifiedContent(
  zip: ZipReader,
  name: ContentFile,
  manifest: Manifest,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of await zip.open(name)) {
    hash.update(chunk as Buffer);
    yield chunk as Buffer;
  }
  if (hash.digest('hex') !== manifest.files[name].sha256)
    throw damaged(`${name} changed on disk while it was being imported`);
}
