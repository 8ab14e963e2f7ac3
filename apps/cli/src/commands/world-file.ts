import type { Entity, EventMeta } from '@lorekeeper/domain';
import { CAMPAIGN_ID_PATTERN, WORLD_FORMAT, describeIssues } from '@lorekeeper/domain';
import type { ArchivedEvent } from '@lorekeeper/pg-store';
import { z } from 'zod';

/**
 * The world export (docs/replay.md, "World files"): a zip of the world at the checkpoint, the world the
 * campaign was created with, the archived events between them, and a manifest that vouches for all three.
 */
export const EXPORT_FORMAT = 'lorekeeper.export/1';
export const WORLD_FILE = 'world.json';
export const CREATED_FILE = 'created.json';
export const EVENTS_FILE = 'events.jsonl';
export const MANIFEST_FILE = 'manifest.json';
/** The files the manifest describes, in the order they are written. */
export const CONTENT_FILES = [WORLD_FILE, CREATED_FILE, EVENTS_FILE] as const;
export type ContentFile = (typeof CONTENT_FILES)[number];

export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

const digest = z.strictObject({ bytes: z.int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const count = z.int().nonnegative();

const manifestSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  campaignId: z.string().regex(CAMPAIGN_ID_PATTERN),
  name: z.string(),
  checkpoint: z.strictObject({ seq: count, streamId: z.string().min(1) }),
  exportedAt: z.iso.datetime(),
  counts: z.strictObject({ entities: count, createdEntities: count, events: count }),
  files: z.strictObject({ [WORLD_FILE]: digest, [CREATED_FILE]: digest, [EVENTS_FILE]: digest }),
});

export type Manifest = z.infer<typeof manifestSchema>;

/** The manifest, or the reason it is not one (a string, for the refusal message). */
export function parseManifest(raw: unknown): Manifest | string {
  const format = typeof raw === 'object' && raw !== null ? (raw as { format?: unknown }).format : undefined;
  if (format !== EXPORT_FORMAT)
    return `${MANIFEST_FILE} has format ${JSON.stringify(format)}, expected "${EXPORT_FORMAT}"`;
  const parsed = manifestSchema.safeParse(raw);
  return parsed.success
    ? parsed.data
    : `${MANIFEST_FILE} is malformed: ${describeIssues(parsed.error).join('; ')}`;
}

/** One line of events.jsonl: the archived event without its recordedAt, which is meta.at again. */
export function eventLine(event: ArchivedEvent): string {
  const { seq, streamId, type, entityId, version, data, meta } = event;
  return `${JSON.stringify({ seq, streamId, type, entityId, version, data, meta })}\n`;
}

const eventSchema = z.strictObject({
  seq: z.int().positive(),
  streamId: z.string().min(1),
  type: z.string().min(1),
  entityId: z.string().min(1),
  version: z.int().positive(),
  data: z.unknown(),
  // Loose: meta is kept exactly as it was recorded, whatever it carries beside these.
  meta: z.looseObject({
    sessionId: z.string(),
    batchId: z.string(),
    correlationId: z.string().optional(),
    at: z.iso.datetime({ offset: true }),
  }),
});

/** Parse one line of events.jsonl, or give the reason it is not an event (a string). */
export function parseEventLine(line: string): ArchivedEvent | string {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    return `not JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) return describeIssues(parsed.error).join('; ');
  const { seq, streamId, type, entityId, version, data, meta } = parsed.data;
  return {
    seq,
    streamId,
    type,
    entityId,
    version,
    data,
    meta: meta as EventMeta,
    recordedAt: new Date(meta.at),
  };
}

/**
 * A world document (PROTOCOL.md) as text, one page of entities at a time, so a million entities never
 * sit in one string. `onPage` sees each page as it is written.
 */
export async function* worldDocumentText(
  header: { readonly campaignId: string; readonly name: string; readonly seq: number },
  pages: AsyncIterable<readonly Entity[]>,
  onPage: (page: readonly Entity[]) => void = () => {},
): AsyncGenerator<string> {
  const { campaignId, name, seq } = header;
  const opening = JSON.stringify({ format: WORLD_FORMAT, campaignId, name, seq });
  yield `${opening.slice(0, -1)},"entities":[\n`;
  let first = true;
  for await (const page of pages) {
    if (page.length === 0) continue;
    yield `${first ? '' : ',\n'}${page.map((entity) => JSON.stringify(entity)).join(',\n')}`;
    first = false;
    onPage(page);
  }
  yield '\n]}\n';
}
