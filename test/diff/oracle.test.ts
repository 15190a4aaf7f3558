import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareJsonSchemas } from '../../src/diff/engine.js';
import { candidates } from './oracle/instances.js';
import { pairArb, type Rooted } from './oracle/schemas.js';

/**
 * The empirical oracle: for generated schema pairs, the engine's verdict is checked against
 * instances. "Backward compatible" (no change that narrows) means every instance valid under the
 * old schema is valid under the new one; "forward compatible" (no change that widens) means every
 * instance valid under the new schema is valid under the old one. A compatible verdict with a
 * counter-example fails, and fast-check shrinks the pair to a minimal one.
 */

const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true, code: { optimize: false } });
addFormats(ajv);
const compiled = new Map<string, ValidateFunction>();

function validator(rooted: Rooted): ValidateFunction {
  const schema = { definitions: rooted.definitions, allOf: [rooted.root] };
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}

interface Stats {
  pairs: number;
  backwardCompatible: number;
  forwardCompatible: number;
  bothCompatible: number;
  /** Verdicts of "breaking" that a sampled instance confirmed (how often the engine is not merely cautious). */
  confirmedBreaks: number;
  instancesChecked: number;
}

function check(pair: { old: Rooted; new: Rooted }, seed: number, stats: Stats): void {
  const changes = compareJsonSchemas(pair.old.root, pair.new.root, pair.old.definitions, pair.new.definitions);
  const backward = !changes.some((c) => c.impact === 'narrows' || c.impact === 'both');
  const forward = !changes.some((c) => c.impact === 'widens' || c.impact === 'both');
  const validOld = validator(pair.old);
  const validNew = validator(pair.new);
  stats.pairs++;
  if (backward) stats.backwardCompatible++;
  if (forward) stats.forwardCompatible++;
  if (backward && forward) stats.bothCompatible++;
  let confirmed = false;
  for (const instance of candidates(pair, seed, Number(process.env.PER_SIDE ?? 24))) {
    stats.instancesChecked++;
    const okOld = validOld(instance);
    const okNew = validNew(instance);
    if (okOld && !okNew) {
      if (backward) throw new Error(`said BACKWARD compatible, but ${JSON.stringify(instance)} is valid under the old schema and invalid under the new one.\nchanges: ${JSON.stringify(changes)}`);
      confirmed = true;
    }
    if (okNew && !okOld) {
      if (forward) throw new Error(`said FORWARD compatible, but ${JSON.stringify(instance)} is valid under the new schema and invalid under the old one.\nchanges: ${JSON.stringify(changes)}`);
      confirmed = true;
    }
  }
  if (confirmed) stats.confirmedBreaks++;
}

describe('schema comparison oracle', () => {
  it('never calls a change compatible when an instance proves otherwise (1,000 generated pairs)', () => {
    const stats: Stats = { pairs: 0, backwardCompatible: 0, forwardCompatible: 0, bothCompatible: 0, confirmedBreaks: 0, instancesChecked: 0 };
    fc.assert(
      fc.property(pairArb, fc.integer(), (pair, seed) => {
        check(pair, seed, stats);
      }),
      { numRuns: 1000, seed: Number(process.env.ORACLE_SEED ?? 20261126) },
    );
    // The oracle is only worth something if it sees both verdicts often.
    expect(stats.pairs).toBeGreaterThanOrEqual(1000);
    expect(stats.backwardCompatible).toBeGreaterThan(stats.pairs * 0.2);
    expect(stats.forwardCompatible).toBeGreaterThan(stats.pairs * 0.2);
    expect(stats.confirmedBreaks).toBeGreaterThan(stats.pairs * 0.2);
    console.log(`oracle: ${JSON.stringify(stats)}`);
  });

  it('finds no semantic change between equivalent schemas (reordered enum/required/branches, $ref retargeted)', () => {
    const cases: Array<[unknown, unknown, Record<string, unknown>?, Record<string, unknown>?]> = [
      [{ enum: ['a', 'b', 'c'] }, { enum: ['c', 'a', 'b'] }],
      [{ type: 'object', required: ['a', 'b'] }, { type: 'object', required: ['b', 'a'] }],
      [{ anyOf: [{ type: 'string' }, { type: 'integer' }] }, { anyOf: [{ type: 'integer' }, { type: 'string' }] }],
      [{ $ref: '#/definitions/A' }, { $ref: '#/definitions/B' }, { A: { type: 'string', minLength: 1 } }, { B: { minLength: 1, type: 'string' } }],
      [{ type: 'string' }, { allOf: [{ type: 'string' }] }],
      [{ type: ['string', 'null'] }, { type: ['null', 'string'] }],
      [{ type: 'integer', exclusiveMinimum: 0 }, { type: 'integer', minimum: 1 }],
      [true, {}],
      [{ type: 'string', enum: ['a'] }, { enum: ['a'] }],
      [{ const: 'x' }, { enum: ['x'] }],
    ];
    for (const [a, b, da, db] of cases) {
      const changes = compareJsonSchemas(a, b, da, db).filter((c) => c.impact !== 'none');
      expect(changes, JSON.stringify([a, b])).toEqual([]);
    }
  });

  it('follows recursive schemas without looping', () => {
    const defs = (extra: Record<string, unknown>) => ({ Node: { type: 'object', properties: { value: { type: 'integer', ...extra }, children: { type: 'array', items: { $ref: '#/definitions/Node' } } } } });
    expect(compareJsonSchemas({ $ref: '#/definitions/Node' }, { $ref: '#/definitions/Node' }, defs({}), defs({}))).toEqual([]);
    const changes = compareJsonSchemas({ $ref: '#/definitions/Node' }, { $ref: '#/definitions/Node' }, defs({}), defs({ minimum: 0 }));
    expect(changes.map((c) => [c.ruleId, c.impact])).toEqual([['SCHEMA_MINIMUM_INCREASED', 'narrows']]);
  });
});
