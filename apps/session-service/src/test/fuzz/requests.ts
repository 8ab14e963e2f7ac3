import { randomUUID } from 'node:crypto';
import type { Verb } from '@lorekeeper/protocol';
import { VERBS, subjectFor } from '@lorekeeper/protocol';
import { doomedAppend, hostileFields, malformed, validBody } from './bodies';
import { hostileString, toJson } from './hostile-json';
import type { Body, FuzzContext, FuzzMessage, GuardedCampaign } from './messages';
import type { Rng } from './random';

/** Header set on forged publications to guarded events subjects, so the watcher can tell them apart. */
export const FORGED_HEADER = 'Fuzz-Forged';

/** Single subject tokens that are not valid campaign ids (no dots or spaces: those are other subjects). */
const BAD_TOKENS = [
  '*',
  '>',
  'é',
  '😀',
  'x\u0001y',
  'x\u007fy',
  '{c:x}',
  'a:b',
  'a/b',
  '%00',
  'a'.repeat(65),
  '中文',
  'a\u202eb',
  'a+b',
];
const UNKNOWN_VERBS = ['Append', 'delete', 'entity', 'session', 'append.extra', 'events.x', 'create.', 'get'];

/** The next message of the run: a subject (every verb, good and bad ids, unknown subjects) and a body. */
export function generateMessage(rng: Rng, context: FuzzContext): FuzzMessage {
  const route = rng.weighted<'verb' | 'events' | 'unknown' | 'publish'>([
    [86, 'verb'],
    [4, 'events'],
    [5, 'unknown'],
    [5, 'publish'],
  ]);
  if (route === 'events') return eventsMessage(rng, context);
  if (route === 'unknown') return unknownSubject(rng, context);
  const verb = rng.pick(VERBS);
  const message = route === 'publish' ? publishMessage(verb, rng, context) : verbMessage(verb, rng, context);
  return rng.chance(0.05) ? { ...message, headers: hostileHeaders(rng) } : message;
}

function verbMessage(verb: Verb, rng: Rng, context: FuzzContext): FuzzMessage {
  const target = rng.weighted<'guarded' | 'fresh' | 'created' | 'special' | 'badToken' | 'dotted'>([
    [40, 'guarded'],
    [20, 'fresh'],
    [context.created.length > 0 ? 6 : 0, 'created'],
    [3, 'special'],
    [27, 'badToken'],
    [4, 'dotted'],
  ]);
  switch (target) {
    case 'guarded': {
      const campaign = rng.pick(context.guarded);
      return {
        subject: subjectFor(campaign.id, verb),
        ...guardedBody(verb, campaign, rng, context),
        guarded: campaign,
        verb,
      };
    }
    case 'fresh':
    case 'created':
    case 'special': {
      const id =
        target === 'fresh'
          ? `${context.prefix}-${rng.hex(6)}`
          : target === 'created'
            ? rng.pick(context.created)
            : rng.pick(context.specialIds);
      const body = otherBody(verb, id, rng);
      if (target !== 'created' && body.category === 'valid create') context.created.push(id);
      return { subject: subjectFor(id, verb), ...body, verb };
    }
    case 'badToken': {
      const body = otherBody(verb, `${context.prefix}-x`, rng);
      return {
        subject: `campaign.${rng.pick(BAD_TOKENS)}.${verb}`,
        payload: body.payload,
        expect: { kind: 'refused', code: 'BAD_REQUEST' },
        category: `malformed campaign id, ${body.category}`,
        verb,
      };
    }
    case 'dotted':
      return {
        subject: `campaign.${rng.pick([`${rng.pick(context.guarded).id}.x`, 'a.b', '', 'a..b'])}.${verb}`,
        payload: '{}',
        expect: { kind: 'nobody' },
        category: 'campaign id with a dot',
      };
  }
}

/** Bodies for a guarded campaign: reads of any kind, and writes that are certain to be refused. */
function guardedBody(verb: Verb, campaign: GuardedCampaign, rng: Rng, context: FuzzContext): Body {
  const valid = validBody(verb, campaign.id, campaign.sessionId, rng);
  const reads = verb === 'entity.get' || verb === 'entities.list' || verb === 'export';
  const mode = rng.weighted<'valid' | 'malformed' | 'hostile' | 'doomed'>([
    [reads || verb === 'session.start' || verb === 'create' ? 25 : 0, 'valid'],
    [35, 'malformed'],
    [25, 'hostile'],
    [verb === 'append' ? 40 : verb === 'save' || verb === 'session.end' ? 15 : 0, 'doomed'],
  ]);
  switch (mode) {
    case 'valid':
      // create: the campaign exists; session.start joins the live session; reads are checked.
      return {
        payload: toJson(valid),
        expect: verb === 'create' ? { kind: 'refused', code: 'CAMPAIGN_EXISTS' } : { kind: 'answer' },
        category: `valid ${verb}`,
      };
    case 'malformed':
      return malformed(valid, rng);
    case 'hostile':
      return {
        payload: toJson(hostileFields(verb, campaign.sessionId, rng)),
        expect: reads ? { kind: 'answer' } : { kind: 'refused' },
        category: 'hostile field values',
      };
    case 'doomed':
      if (verb === 'append') return doomedAppend(campaign, context, rng);
      return {
        payload: toJson({ sessionId: rng.chance(0.5) ? randomUUID() : otherSession(campaign, context) }),
        expect: { kind: 'refused' },
        category: `${verb} with a forged or replayed session id`,
      };
  }
}

/** The live session id of another guarded campaign (a replayed id: valid somewhere, not here). */
export function otherSession(campaign: GuardedCampaign, context: FuzzContext): string {
  const others = context.guarded.filter((other) => other.id !== campaign.id);
  return others.length > 0 ? (others[0] as GuardedCampaign).sessionId : randomUUID();
}

/** Bodies for campaigns nobody guards: anything goes, valid creates included. */
function otherBody(verb: Verb, campaignId: string, rng: Rng): Body {
  const sessionId = randomUUID();
  const valid = validBody(verb, campaignId, sessionId, rng);
  const mode = rng.weighted<'valid' | 'malformed' | 'hostile'>([
    [20, 'valid'],
    [45, 'malformed'],
    [35, 'hostile'],
  ]);
  if (mode === 'malformed') return malformed(valid, rng);
  if (mode === 'hostile') {
    return {
      payload: toJson(hostileFields(verb, sessionId, rng)),
      expect: { kind: 'answer' },
      category: 'hostile field values',
    };
  }
  // A made-up id is fresh unless the run already created it; create then answers CAMPAIGN_EXISTS.
  return { payload: toJson(valid), expect: { kind: 'answer' }, category: `valid ${verb}` };
}

function eventsMessage(rng: Rng, context: FuzzContext): FuzzMessage {
  if (rng.chance(0.5)) {
    // Forged publications on a guarded campaign's events subject: the service must ignore them.
    const campaign = rng.pick(context.guarded);
    return {
      subject: `campaign.${campaign.id}.events`,
      payload: rng.chance(0.5)
        ? rng.bytes(rng.int(0, 256))
        : toJson({ campaignId: campaign.id, seq: 1, events: [] }),
      headers: [[FORGED_HEADER, '1']],
      expect: { kind: 'nobody' },
      category: 'forged events publication',
      publishOnly: {},
    };
  }
  return {
    subject: `campaign.${rng.chance(0.5) ? `${context.prefix}-${rng.hex(4)}` : rng.pick(BAD_TOKENS)}.events`,
    payload: '{}',
    expect: { kind: 'nobody' },
    category: 'request on an events subject',
  };
}

function unknownSubject(rng: Rng, context: FuzzContext): FuzzMessage {
  const id = rng.chance(0.5) ? rng.pick(context.guarded).id : `${context.prefix}-${rng.hex(4)}`;
  const subject = rng.pick([
    `campaign.${id}.${rng.pick(UNKNOWN_VERBS)}`,
    `campaign.${id}`,
    'campaign',
    `lorekeeper.flush.${id}`,
    `lorekeeper.${rng.hex(4)}`,
    `_INBOX.${rng.hex(8)}`,
    `${rng.hex(3)}.${rng.hex(3)}`,
  ]);
  return { subject, payload: '{}', expect: { kind: 'nobody' }, category: 'unknown subject' };
}

/** Fire-and-forget or misdirected-reply messages to the service's subjects: refused bodies only. */
function publishMessage(verb: Verb, rng: Rng, context: FuzzContext): FuzzMessage {
  const campaign = rng.pick(context.guarded);
  let body = guardedBody(verb, campaign, rng, context);
  if (body.expect.kind !== 'refused')
    body = malformed(validBody(verb, campaign.id, campaign.sessionId, rng), rng);
  // A reply subject naming another campaign's request subject: the service must not act on its own reply.
  const reply = rng.chance(0.5) ? subjectFor(rng.pick(context.guarded).id, rng.pick(VERBS)) : undefined;
  return {
    subject: subjectFor(campaign.id, verb),
    ...body,
    category: `published without waiting, ${reply ? 'reply to a request subject' : 'no reply'}`,
    guarded: campaign,
    verb,
    publishOnly: reply ? { reply } : {},
  };
}

function hostileHeaders(rng: Rng): [string, string][] {
  return [
    [
      'Correlation-Id',
      rng.pick(['x'.repeat(rng.int(1, 20_000)), '__proto__', hostileString(rng).replace(/[\r\n]/g, '')]),
    ],
    ...(rng.chance(0.5) ? ([['Nats-Service-Error-Code', '200']] as [string, string][]) : []),
  ];
}
