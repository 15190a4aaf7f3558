import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { compareJsonSchemas } from '../../src/diff/engine.js';
import type { ApiModel } from '../../src/model/types.js';
import { loadValidatedDocument } from '../../src/pipeline/document.js';
import { caseRuns, writeCase } from './case-table.js';
import { candidates } from './oracle/instances.js';
import type { Rooted } from './oracle/schemas.js';

/**
 * The oracle over the whole change table: for every message both versions of a case share, the
 * schema rules' verdict on its payload and headers is checked against values generated from both
 * versions and validated with ajv. A "compatible" verdict (no change that narrows, or none that
 * widens) with a counter-example fails; so does a "breaking" verdict that many generated values
 * never confirm, unless the rule is listed below with the reason sampling cannot reach it.
 */

const PER_SIDE = 60;
/** Rounds of PER_SIDE more values per side for a breaking verdict not confirmed yet. */
const EXTRA_ROUNDS = 150;
/** Narrowings the sampler cannot witness: the values that show them are not among what it generates. */
const UNWITNESSABLE = new Map<string, string>([
  ['SCHEMA_PATTERN_CHANGED', 'patterns are not compared (reported both ways); the sampler writes no strings from a regular expression'],
  ['SCHEMA_ONEOF_NOT_EXCLUSIVE', 'a value matching two branches at once is not aimed at by the sampler (it samples one branch)'],
]);

const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true, code: { optimize: false } });
addFormats(ajv);

function validator(rooted: Rooted): ValidateFunction {
  return ajv.compile({ definitions: rooted.definitions, allOf: [rooted.root] });
}

function rooted(model: ApiModel, typeName: string | undefined): Rooted {
  return { root: typeName ? { $ref: `#/definitions/${typeName}` } : true, definitions: model.schemas as Rooted['definitions'] };
}

interface Verdict {
  name: string;
  direction: 'narrows' | 'widens';
  rules: string[];
  confirmed: boolean;
}

async function modelOf(file: string): Promise<ApiModel | undefined> {
  try {
    return (await loadValidatedDocument(file)).model;
  } catch {
    return undefined; // the gate cases: a version that does not validate has no schemas to sample
  }
}

describe('schema oracle over the change table', () => {
  it('no compatible verdict has a counter-example, and breaking verdicts are confirmed by generated values', async () => {
    const failures: string[] = [];
    const verdicts: Verdict[] = [];
    let pairs = 0;
    let instances = 0;
    for (const run of caseRuns()) {
      if (typeof run.oldDoc === 'string' || run.spec.files) continue;
      const files = writeCase(run);
      const [oldModel, newModel] = await Promise.all([modelOf(files.old), modelOf(files.new)]);
      if (!oldModel || !newModel) continue;
      for (const message of newModel.messages) {
        const before = oldModel.messages.find((m) => m.id === message.id);
        if (!before || before.payloadRaw !== undefined || message.payloadRaw !== undefined) continue; // Avro and others: not JSON Schema
        for (const part of ['payloadTypeName', 'headersTypeName'] as const) {
          const pair = { old: rooted(oldModel, before[part]), new: rooted(newModel, message[part]) };
          const changes = compareJsonSchemas(pair.old.root, pair.new.root, pair.old.definitions, pair.new.definitions);
          const says = (impact: 'narrows' | 'widens') => changes.filter((c) => c.impact === impact || c.impact === 'both').map((c) => c.ruleId);
          const validOld = validator(pair.old);
          const validNew = validator(pair.new);
          const found = { narrows: false, widens: false };
          const probe = (seed: number) => {
            for (const instance of candidates(pair, seed, PER_SIDE)) {
              instances++;
              const okOld = validOld(instance);
              const okNew = validNew(instance);
              if (okOld && !okNew) found.narrows = true;
              if (okNew && !okOld) found.widens = true;
              if (okOld && !okNew && says('narrows').length === 0) failures.push(`${run.name}, ${message.id} ${part}: said compatible (nothing narrows), but ${JSON.stringify(instance)} is valid under the old version only`);
              if (okNew && !okOld && says('widens').length === 0) failures.push(`${run.name}, ${message.id} ${part}: said compatible (nothing widens), but ${JSON.stringify(instance)} is valid under the new version only`);
            }
          };
          pairs++;
          probe(pairs);
          // A breaking verdict not confirmed yet: keep generating (many more values) before calling it unconfirmed.
          const pending = () => (['narrows', 'widens'] as const).some((direction) => says(direction).length > 0 && !found[direction]);
          for (let round = 1; round <= EXTRA_ROUNDS && pending(); round++) probe(pairs * 1000 + round);
          for (const direction of ['narrows', 'widens'] as const) {
            const rules = says(direction);
            if (rules.length > 0) verdicts.push({ name: `${run.name}, ${message.id} ${part}`, direction, rules, confirmed: found[direction] });
          }
        }
      }
    }
    const unconfirmed = verdicts.filter((v) => !v.confirmed && !v.rules.some((rule) => UNWITNESSABLE.has(rule)));
    for (const v of unconfirmed) failures.push(`${v.name}: said ${v.direction} (${v.rules.join(', ')}), but ${(EXTRA_ROUNDS + 1) * (PER_SIDE * 2 + 8)} generated values found no counter-example`);
    for (const v of verdicts.filter((v) => !v.confirmed)) console.log(`unconfirmed, excused: ${v.name} ${v.direction} ${v.rules.join(", ")}`);
    console.log(`table oracle: ${pairs} schema pairs, ${instances} values, ${verdicts.length} breaking verdicts (${verdicts.filter((v) => v.confirmed).length} confirmed)`);
    expect(pairs).toBeGreaterThan(150);
    expect(failures).toEqual([]);
  }, 120_000);
});
