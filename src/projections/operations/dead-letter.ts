import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { EVENT_HEADERS } from '../../infra/kafka.ts';
import { DEAD_LETTER_HEADERS } from '../dead-letters.ts';

/** Characters of a dead letter's value the console shows; the whole record stays re-drivable. */
export const SHOWN_VALUE_CHARS = 4_000;

/** Headers a re-driven record carries: which dead letter it came from, and when. */
export const REDRIVE_HEADERS = {
  fromPartition: 'redriven-from-dlq-partition',
  fromOffset: 'redriven-from-dlq-offset',
  at: 'redriven-at',
} as const;

/** A dead letter as the console and the admin API show it. Every string is data, never markup. */
export interface DeadLetterView {
  /** Where the dead letter is in the dead-letter topic: what identifies it for a re-drive. */
  partition: number;
  offset: number;
  reason: string;
  detail: string;
  sourceTopic: string | null;
  sourcePartition: number | null;
  sourceOffset: number | null;
  consumerGroup: string | null;
  failedAt: string | null;
  key: string | null;
  eventType: string | null;
  /** From the value, when it is a JSON object that names them. */
  aggregateId: string | null;
  version: number | null;
  /** The record's value as text, cut at SHOWN_VALUE_CHARS. */
  value: string;
  valueTruncated: boolean;
  /** When this process last re-drove it. */
  redrivenAt: string | null;
}

/** A dead letter as read: the view, and the record itself, byte for byte, for a re-drive. */
export interface DeadLetter {
  view: DeadLetterView;
  message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>;
}

const header = (headers: IHeaders | undefined, name: string): string | null => {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? null : first.toString();
};

const integerOrNull = (text: string | null): number | null =>
  text !== null && /^\d{1,15}$/.test(text) ? Number(text) : null;

/** What the value says about the event it carries, if it parses as an envelope-like object. */
function envelopeFields(text: string): { aggregateId: string | null; version: number | null } {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return { aggregateId: null, version: null };
    const { aggregateId, version } = parsed as { aggregateId?: unknown; version?: unknown };
    return {
      aggregateId: typeof aggregateId === 'string' ? aggregateId : null,
      version: Number.isSafeInteger(version) ? (version as number) : null,
    };
  } catch {
    return { aggregateId: null, version: null };
  }
}

/** Reads a record of the dead-letter topic (see DeadLetterSink for what it carries). */
export function readDeadLetter(partition: number, message: KafkaMessage): DeadLetter {
  const text = message.value?.toString('utf8') ?? '';
  const headers = message.headers;
  return {
    view: {
      partition,
      offset: Number(message.offset),
      reason: header(headers, DEAD_LETTER_HEADERS.reason) ?? 'unknown',
      detail: header(headers, DEAD_LETTER_HEADERS.detail) ?? '',
      sourceTopic: header(headers, DEAD_LETTER_HEADERS.sourceTopic),
      sourcePartition: integerOrNull(header(headers, DEAD_LETTER_HEADERS.sourcePartition)),
      sourceOffset: integerOrNull(header(headers, DEAD_LETTER_HEADERS.sourceOffset)),
      consumerGroup: header(headers, DEAD_LETTER_HEADERS.consumerGroup),
      failedAt: header(headers, DEAD_LETTER_HEADERS.failedAt),
      key: message.key?.toString('utf8') ?? null,
      eventType: header(headers, EVENT_HEADERS.eventType),
      ...envelopeFields(text),
      value: text.slice(0, SHOWN_VALUE_CHARS),
      valueTruncated: text.length > SHOWN_VALUE_CHARS,
      redrivenAt: null,
    },
    message: { key: message.key, value: message.value, headers: message.headers },
  };
}

const DEAD_LETTER_HEADER_NAMES = new Set<string>(Object.values(DEAD_LETTER_HEADERS));

/**
 * The record a re-drive publishes to the event topic: the dead letter's value byte for byte, keyed
 * by the product id the event names (so it lands in that product's partition, behind its other
 * events, where its actor's version guard decides), or by the original key when the value names
 * none. The original headers stay, without the dead-letter ones; where it came from is added.
 */
export function redriveMessage(letter: DeadLetter, at: Date): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(letter.message.headers ?? {})) {
    if (!DEAD_LETTER_HEADER_NAMES.has(name) && value !== undefined) headers[name] = value;
  }
  headers[REDRIVE_HEADERS.fromPartition] = String(letter.view.partition);
  headers[REDRIVE_HEADERS.fromOffset] = String(letter.view.offset);
  headers[REDRIVE_HEADERS.at] = at.toISOString();
  return { key: letter.view.aggregateId ?? letter.message.key, value: letter.message.value, headers };
}
