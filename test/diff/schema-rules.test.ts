import { describe, expect, it } from 'vitest';
import { compareJsonSchemas } from '../../src/diff/engine.js';

/**
 * Schema rules one edge case at a time (the case table covers them inside whole documents):
 * [name, old schema, new schema, expected [rule id, impact] pairs].
 */
const CASES: Array<[string, unknown, unknown, Array<[string, string]>]> = [
  ['const removed', { const: 1 }, {}, [['SCHEMA_CONST_REMOVED', 'widens']]],
  ['const → enum with more values', { const: 'a' }, { enum: ['a', 'b'] }, [['SCHEMA_CONST_CHANGED', 'widens']]],
  ['minimum lowered', { type: 'number', minimum: 2 }, { type: 'number', minimum: 1 }, [['SCHEMA_MINIMUM_DECREASED', 'widens']]],
  ['exclusive maximum tightened', { type: 'number', maximum: 5 }, { type: 'number', exclusiveMaximum: 5 }, [['SCHEMA_MAXIMUM_DECREASED', 'narrows']]],
  ['minLength lowered', { type: 'string', minLength: 3 }, { type: 'string', minLength: 1 }, [['SCHEMA_MIN_LENGTH_DECREASED', 'widens']]],
  ['minItems removed', { type: 'array', minItems: 2 }, { type: 'array' }, [['SCHEMA_MIN_ITEMS_DECREASED', 'widens']]],
  ['maxItems lowered', { type: 'array', maxItems: 5 }, { type: 'array', maxItems: 2 }, [['SCHEMA_MAX_ITEMS_DECREASED', 'narrows']]],
  ['minProperties added', { type: 'object' }, { type: 'object', minProperties: 1 }, [['SCHEMA_MIN_PROPERTIES_INCREASED', 'narrows']]],
  ['minProperties lowered', { type: 'object', minProperties: 2 }, { type: 'object', minProperties: 1 }, [['SCHEMA_MIN_PROPERTIES_DECREASED', 'widens']]],
  ['maxProperties added', { type: 'object' }, { type: 'object', maxProperties: 3 }, [['SCHEMA_MAX_PROPERTIES_DECREASED', 'narrows']]],
  ['maxProperties raised', { type: 'object', maxProperties: 3 }, { type: 'object', maxProperties: 4 }, [['SCHEMA_MAX_PROPERTIES_INCREASED', 'widens']]],
  ['multipleOf divided', { type: 'integer', multipleOf: 6 }, { type: 'integer', multipleOf: 3 }, [['SCHEMA_MULTIPLE_OF_CHANGED', 'widens']]],
  ['multipleOf unrelated', { type: 'integer', multipleOf: 2 }, { type: 'integer', multipleOf: 3 }, [['SCHEMA_MULTIPLE_OF_CHANGED', 'both']]],
  ['pattern removed', { type: 'string', pattern: '^a' }, { type: 'string' }, [['SCHEMA_PATTERN_REMOVED', 'widens']]],
  ['format added', { type: 'string' }, { type: 'string', format: 'email' }, [['SCHEMA_FORMAT_ADDED', 'narrows']]],
  ['uniqueItems dropped', { type: 'array', uniqueItems: true }, { type: 'array' }, [['SCHEMA_UNIQUE_ITEMS_REMOVED', 'widens']]],
  ['allOf lost a branch', { allOf: [{ required: ['a'] }, { required: ['b'] }] }, { allOf: [{ required: ['a'] }] }, [['SCHEMA_ALLOF_BRANCH_REMOVED', 'widens']]],
  ['allOf introduced', { type: 'object' }, { type: 'object', allOf: [{ required: ['a'] }, { required: ['b'] }] }, [['SCHEMA_ALLOF_ADDED', 'narrows']]],
  ['allOf dropped', { type: 'object', allOf: [{ required: ['a'] }, { required: ['b'] }] }, { type: 'object' }, [['SCHEMA_ALLOF_REMOVED', 'widens']]],
  ['anyOf gained a branch', { anyOf: [{ type: 'string' }, { type: 'integer' }] }, { anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'boolean' }] }, [['SCHEMA_ANYOF_BRANCH_ADDED', 'widens']]],
  ['a type became an anyOf', { type: 'string' }, { anyOf: [{ type: 'string' }, { type: 'null' }] }, [['SCHEMA_ANYOF_BRANCH_ADDED', 'widens']]],
  ['anyOf introduced', { type: 'string' }, { type: 'string', anyOf: [{ minLength: 2 }, { pattern: '^x' }] }, [['SCHEMA_ANYOF_ADDED', 'narrows']]],
  ['anyOf dropped', { type: 'string', anyOf: [{ minLength: 2 }, { pattern: '^x' }] }, { type: 'string' }, [['SCHEMA_ANYOF_REMOVED', 'widens']]],
  ['oneOf (exclusive) lost a branch', { oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'boolean' }] }, { oneOf: [{ type: 'string' }, { type: 'integer' }] }, [['SCHEMA_ONEOF_BRANCH_REMOVED', 'narrows']]],
  ['oneOf introduced', { type: 'object' }, { type: 'object', oneOf: [{ required: ['a'] }, { required: ['b'] }] }, [['SCHEMA_ONEOF_ADDED', 'narrows']]],
  ['oneOf dropped', { type: 'object', oneOf: [{ required: ['a'] }, { required: ['b'] }] }, { type: 'object' }, [['SCHEMA_ONEOF_REMOVED', 'widens']]],
  ['not dropped', { type: 'string', not: { const: '' } }, { type: 'string' }, [['SCHEMA_NOT_REMOVED', 'widens']]],
  ['inside not, a widening narrows', { not: { type: 'string' } }, { not: { type: ['string', 'number'] } }, [['SCHEMA_TYPE_WIDENED', 'narrows']]],
  ['propertyNames changed (no finer rule)', { type: 'object', propertyNames: { maxLength: 3 } }, { type: 'object', propertyNames: { maxLength: 4 } }, [['SCHEMA_KEYWORD_CHANGED', 'both']]],
  ['if/then/else changed', { if: { required: ['a'] }, then: { required: ['b'] } }, { if: { required: ['a'] }, then: { required: ['c'] } }, [['SCHEMA_KEYWORD_CHANGED', 'both']]],
  ['a property forbidden with false', { properties: { a: { type: 'string' } } }, { properties: { a: false } }, [['SCHEMA_NOW_REJECTS_EVERYTHING', 'narrows']]],
  ['a forbidden property allowed', { properties: { a: false } }, { properties: { a: { type: 'string' } } }, [['SCHEMA_NO_LONGER_REJECTS_EVERYTHING', 'widens']]],
  ['a tuple position allowed after additionalItems: false', { type: 'array', items: [{ type: 'string' }], additionalItems: false }, { type: 'array', items: [{ type: 'string' }, { type: 'integer' }], additionalItems: false }, [['SCHEMA_NO_LONGER_REJECTS_EVERYTHING', 'widens']]],
  ['deprecated', { type: 'string' }, { type: 'string', deprecated: true }, [['SCHEMA_DEPRECATED', 'none']]],
  ['title only (documentation)', { type: 'string', title: 'A' }, { type: 'string', title: 'B' }, [['SCHEMA_DESCRIPTION_CHANGED', 'none']]],
  ['additionalProperties schema narrowed', { type: 'object', additionalProperties: { type: 'string' } }, { type: 'object', additionalProperties: { type: 'string', maxLength: 2 } }, [['SCHEMA_MAX_LENGTH_DECREASED', 'narrows']]],
  ['property added where additionalProperties was a schema', { type: 'object', additionalProperties: { type: 'string' } }, { type: 'object', properties: { a: { type: 'string', minLength: 1 } }, additionalProperties: { type: 'string' } }, [['SCHEMA_MIN_LENGTH_INCREASED', 'narrows']]],
];

describe('schema rules, one edge case each', () => {
  for (const [name, before, after, expected] of CASES) {
    it(name, () => {
      const changes = compareJsonSchemas(before, after).map((c) => [c.ruleId, c.impact]);
      expect(changes).toEqual(expected);
    });
  }

  it('names the path of nested values in the sentence', () => {
    const before = { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' } } } } } };
    const after = { type: 'object', properties: { items: { type: 'array', items: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } } } } };
    expect(compareJsonSchemas(before, after).map((c) => c.text)).toEqual(['`items[].sku` became required in the schema']);
  });
});
