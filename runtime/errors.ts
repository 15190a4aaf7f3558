import type { ValidationIssue } from './validation.js';

/** Why an event was sent to the dead-letter destination (carried in its headers). */
export type DeadLetterReason =
  /** The body is larger than the consumer's `maxBodyBytes`; it is not decoded. */
  | 'too-large'
  | 'not-json'
  | 'invalid-payload'
  | 'invalid-envelope'
  | 'invalid-headers'
  /** A Kafka record key that the document's key binding does not allow (or a required key left out). */
  | 'invalid-key'
  | 'handler-failed'
  /**
   * The last delivery the broker allows (JetStream `max_deliver`) met another copy being handled, and the
   * consumer shut down before that copy was settled: kept here rather than lost; redriving it is safe.
   */
  | 'claim-unsettled'
  /** The concrete address (subject, routing key) does not match the channel or its parameters are invalid. */
  | 'invalid-address'
  /** An Avro or Protobuf message without the schema registry wire format (magic byte 0, 4-byte schema id). */
  | 'not-schema-framed'
  /** An Avro or Protobuf message whose schema id the registry does not know (or, Avro, cannot be read as the reader's schema). */
  | 'unknown-schema'
  /** An Avro body that cannot be read: truncated, trailing bytes, or values the schema does not allow. */
  | 'not-avro'
  /** A Protobuf body that cannot be read: truncated, an overlong varint, a wrong wire type, invalid UTF-8, a 64-bit integer past 2^53. */
  | 'not-protobuf';

/** A payload, header set or envelope that does not match the document. */
export class EventValidationError extends Error {
  readonly issues: ValidationIssue[];
  readonly reason: DeadLetterReason;
  constructor(reason: DeadLetterReason, subject: string, issues: ValidationIssue[]) {
    super(`${subject} is invalid: ${issues.map((i) => `${i.pointer || '/'} ${i.message}`).join('; ')}`);
    this.name = 'EventValidationError';
    this.reason = reason;
    this.issues = issues;
  }
}

/** The broker did not confirm a publish (nack, unroutable, closed channel, timeout). */
export class PublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishError';
  }
}

/** No reply arrived in time for a request. */
export class ReplyTimeoutError extends Error {
  constructor(operation: string, timeoutMs: number) {
    super(`no reply to ${operation} within ${timeoutMs} ms`);
    this.name = 'ReplyTimeoutError';
  }
}

/**
 * The responder of a request could not produce a reply (the request was invalid, or its handler failed);
 * it said so in its answer instead of letting the requester wait for a timeout.
 */
export class RequestFailedError extends Error {
  /** Why the responder refused (`invalid-payload`, `handler-failed`, ...). */
  readonly reason: string;
  readonly operation: string;
  constructor(operation: string, reason: string, message: string) {
    super(`${operation}: the responder failed (${reason}): ${message}`);
    this.name = 'RequestFailedError';
    this.reason = reason;
    this.operation = operation;
  }
}

/** The client was closed while the call was in progress. */
export class ClientClosedError extends Error {
  constructor() {
    super('the client is closed');
    this.name = 'ClientClosedError';
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return 'unknown error';
  }
}
