import type { Diagnostic } from '../../errors.js';
import { capitalise } from '../judge.js';
import type { ValidationRule } from '../rule.js';
import type { Finding, FindingLocation, Severity } from '../types.js';

/** One finding per validation error of one version, at the error's location. */
function findingsOf(rule: ValidationRule, side: 'old' | 'new', errors: readonly Diagnostic[], revision: string | undefined): Finding[] {
  return errors.map((error) => {
    const at: FindingLocation | undefined = error.location && { ...error.location, ...(revision ? { revision } : {}) };
    return {
      ruleId: rule.id,
      severity: rule.severity as Severity,
      category: rule.category,
      message: `${capitalise(rule.message({ code: error.code, message: error.message }))}.`,
      impact: 'none',
      operations: [],
      [side]: at,
      against: [],
    };
  });
}

export const DOCUMENT_INVALID: ValidationRule = {
  id: 'DOCUMENT_INVALID',
  kind: 'validation',
  category: 'document',
  severity: 'breaking',
  purpose: 'The new version does not validate: it fails the gate as `validate` fails it (exit 1), each error at its location; nothing is compared.',
  message: (a) => `the new version does not validate (${a.code}): ${a.message}`,
  check: ({ side, errors, revision }) => (side === 'new' ? findingsOf(DOCUMENT_INVALID, side, errors, revision) : []),
};

export const BASE_INVALID: ValidationRule = {
  id: 'BASE_INVALID',
  kind: 'validation',
  category: 'document',
  severity: 'warning',
  purpose:
    'An old version does not validate but could still be read: it is compared best-effort, each of its validation errors reported as a warning, and the verdict marked best-effort (`--strict-base` refuses it instead, exit 2).',
  message: (a) => `the old version does not validate (${a.code}): ${a.message}; compared best-effort`,
  check: ({ side, errors, revision }) => (side === 'old' ? findingsOf(BASE_INVALID, side, errors, revision) : []),
};

export const validationRules = [DOCUMENT_INVALID, BASE_INVALID];
