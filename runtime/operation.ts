import type { PayloadCodecFactory } from './codec.js';
import { EventValidationError } from './errors.js';
import { setOwn, type ValidationResult } from './validation.js';

/**
 * Everything the document says about one operation, independent of the broker:
 * addresses, event types and validators. Each broker client is built on these specs.
 */
export interface OperationSpec<T, H, P> {
  operation: string;
  action: 'send' | 'receive';
  /** The channel address with `{parameter}` placeholders (null when the document leaves it open). */
  address: string | null;
  parameterNames: readonly string[];
  /** The concrete address for a set of parameter values. */
  buildAddress(parameters: P): string;
  /** The parameter values of a concrete address, or undefined when it does not match. */
  parseAddress(address: string): P | undefined;
  /** CloudEvents `type` of a payload (the message it matches). */
  eventType(payload: T): string;
  contentType: string;
  /** How the payload is encoded when it is not JSON (Avro); absent: JSON. */
  payloadCodec?: PayloadCodecFactory;
  /** How the reply's payload is encoded when it is not JSON (Avro); absent: JSON or no reply. */
  replyPayloadCodec?: PayloadCodecFactory;
  validatePayload(data: unknown): ValidationResult<T>;
  validateHeaders(data: unknown): ValidationResult<H>;
  validateParameters(data: unknown): ValidationResult<P>;
}

/**
 * A parameter value placed in an address. Separators and wildcards (`. / * > # +`), white space
 * and empty values are refused before anything is sent (`invalid-address`): a value must never
 * widen or redirect the address it is placed in.
 */
export function segment(value: unknown, name: string): string {
  const text =
    typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
  if (text === '' || /[./*>#+\s\u0000-\u001f]/.test(text)) {
    throw new EventValidationError('invalid-address', `channel parameter ${JSON.stringify(name)}`, [
      {
        pointer: `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        rule: 'address-segment',
        message: `must be a non-empty value without separators or wildcards (. / * > # +), got ${JSON.stringify(text).slice(0, 80)}`,
      },
    ]);
  }
  return text;
}

/**
 * The concrete address of an operation for the caller's parameter values. Every broker places
 * parameters through here, so a missing or invalid value is refused the same way everywhere:
 * `EventValidationError` (`invalid-address`) before anything is sent.
 */
export function concreteAddress<P>(
  spec: OperationSpec<unknown, unknown, P>,
  parameters: P | undefined,
  validate: boolean,
): string {
  const values = (parameters ?? {}) as P;
  if (validate) {
    // A copy: checking converts values to the schema's types, and the caller's object stays as it was.
    const checked = spec.validateParameters({ ...values });
    if (!checked.ok)
      throw new EventValidationError('invalid-address', `channel parameters of ${spec.operation}`, checked.issues);
  }
  return spec.buildAddress(values);
}

/** Reads parameter values from an address with a precompiled pattern (one group per parameter). */
export function matchAddress(
  pattern: RegExp,
  names: readonly string[],
  address: string,
): Record<string, string> | undefined {
  const match = pattern.exec(address);
  if (!match) return undefined;
  const values: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) setOwn(values, names[i]!, match[i + 1]!);
  return values;
}

/** For operations with several messages: the first message whose validator accepts the value. */
export function firstValid<T>(
  data: unknown,
  validators: Array<(data: unknown) => ValidationResult<unknown>>,
): ValidationResult<T> {
  let first: ValidationResult<T> | undefined;
  for (const validate of validators) {
    const result = validate(data) as ValidationResult<T>;
    if (result.ok) return result;
    first ??= result;
  }
  return first ?? { ok: true, value: data as T };
}

/** The CloudEvents type of the first message that accepts the payload (or the first message's type). */
export function eventTypeOf(
  payload: unknown,
  candidates: Array<[(data: unknown) => ValidationResult<unknown>, string]>,
): string {
  for (const [validate, type] of candidates) if (validate(payload).ok) return type;
  return candidates[0]?.[1] ?? 'event';
}

/** For operations without a declared payload. */
export function acceptAny<T>(data: unknown): ValidationResult<T> {
  return { ok: true, value: data as T };
}
