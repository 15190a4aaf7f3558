/** One reason a value failed validation: where (JSON pointer) and which rule. */
export interface ValidationIssue {
  /** JSON pointer of the offending field ("" for the value itself). */
  pointer: string;
  /** The JSON Schema keyword that failed (required, type, format, ...). */
  rule: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

interface CompiledIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** The shape of an ajv standalone validator. */
export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: CompiledIssue[] | null;
}

/**
 * Stores `value` under `key` as an own data property. A plain assignment everywhere but `__proto__`
 * (Object.prototype's setter: assigning it would replace the prototype), which is defined instead.
 */
export function setOwn<V>(record: Record<string, V>, key: string, value: V): void {
  if (key === '__proto__')
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/** Runs a compiled validator and names each failing field and rule. */
export function check<T>(validator: CompiledValidator, data: unknown): ValidationResult<T> {
  if (validator(data)) return { ok: true, value: data as T };
  const issues = (validator.errors ?? []).map((error) => {
    const missing = error.keyword === 'required' ? String(error.params?.missingProperty ?? '') : '';
    const extra = error.keyword === 'additionalProperties' ? String(error.params?.additionalProperty ?? '') : '';
    const field = missing || extra;
    const pointer = field
      ? `${error.instancePath}/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`
      : error.instancePath;
    return { pointer, rule: error.keyword, message: error.message ?? error.keyword };
  });
  return { ok: false, issues };
}
