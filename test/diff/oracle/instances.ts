import { PROPS, VALUES, type Rooted, type Schema } from './schemas.js';

/** A small seeded PRNG (mulberry32), so every sampled instance is reproducible from the property's seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = ['', 'a', 'b', 'ab', 'ba', 'aab', 'abb', 'xyz', 'aaaa', '2024-01-31', 'a@b.co', 'not-a-date'];
/** Values of the formats real documents use (the fixture table), so their objects can be valid at all. */
const FORMAT_EXAMPLES: Record<string, string[]> = {
  uuid: ['0b8e4c1a-3f5d-4a7e-9c21-5d6f7a8b9c0d', 'not-a-uuid'],
  'date-time': ['2024-01-31T10:00:00Z', '2024-01-31'],
  date: ['2024-01-31', 'not-a-date'],
  email: ['a@b.co', 'ab'],
  uri: ['https://example.com/a', 'a b'],
};

/**
 * Instances aimed at one schema: mostly values it should accept (enum members, values at and
 * around each bound, required and optional properties), with deliberate near-misses (one off a
 * bound, an extra property, a missing one, another type). Validity is decided by ajv, not here.
 */
export class Sampler {
  constructor(
    private readonly random: () => number,
    private readonly definitions: Record<string, Schema>,
  ) {}

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  any(depth = 0): unknown {
    const r = this.random();
    if (depth > 2 || r < 0.6) return this.pick(VALUES);
    if (r < 0.8) return Object.fromEntries(PROPS.filter(() => this.chance(0.5)).map((p) => [p, this.any(depth + 1)]));
    return Array.from({ length: Math.floor(this.random() * 3) }, () => this.any(depth + 1));
  }

  sample(schema: Schema, depth = 0): unknown {
    if (depth > 6 || typeof schema === 'boolean') return this.any(depth);
    const s = schema as Record<string, unknown>;
    if (typeof s.$ref === 'string') {
      const name = s.$ref.replace('#/definitions/', '');
      return this.sample(this.definitions[name] ?? true, depth + 1);
    }
    if (s.const !== undefined && this.chance(0.7)) return structuredClone(s.const);
    if (Array.isArray(s.enum) && this.chance(0.7)) return structuredClone(this.pick(s.enum));
    for (const keyword of ['anyOf', 'oneOf', 'allOf']) {
      if (Array.isArray(s[keyword]) && this.chance(0.75)) return this.sample(this.pick(s[keyword] as Schema[]), depth + 1);
    }
    if (s.not !== undefined && this.chance(0.2)) return this.sample(s.not as Schema, depth + 1);
    const types = s.type === undefined ? ['string', 'integer', 'number', 'boolean', 'null', 'object', 'array'] : Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    let type = this.pick(types);
    if (s.type === undefined) {
      if (s.properties || s.required || s.additionalProperties !== undefined) type = this.chance(0.8) ? 'object' : type;
      else if (s.items) type = this.chance(0.8) ? 'array' : type;
    }
    if (this.chance(0.08)) return this.any(depth);
    switch (type) {
      case 'string':
        return this.string(s);
      case 'integer':
        return Math.round(this.number(s));
      case 'number':
        return this.number(s);
      case 'boolean':
        return this.chance(0.5);
      case 'null':
        return null;
      case 'object':
        return this.object(s, depth);
      case 'array':
        return this.array(s, depth);
      default:
        return this.any(depth);
    }
  }

  private string(s: Record<string, unknown>): string {
    const examples = typeof s.format === 'string' ? FORMAT_EXAMPLES[s.format] : undefined;
    if (examples && this.chance(0.7)) return this.pick(examples);
    const lengths = [s.minLength, s.maxLength].filter((n): n is number => typeof n === 'number');
    if (lengths.length > 0 && this.chance(0.4)) {
      const n = Math.max(0, this.pick(lengths) + this.pick([-1, 0, 0, 1]));
      return this.pick(['a', 'b']).repeat(n);
    }
    return this.pick(STRINGS);
  }

  private number(s: Record<string, unknown>): number {
    const anchors = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].map((k) => s[k]).filter((n): n is number => typeof n === 'number');
    if (typeof s.multipleOf === 'number' && this.chance(0.4)) return s.multipleOf * Math.floor(this.random() * 4 - 1);
    if (anchors.length > 0 && this.chance(0.7)) return this.pick(anchors) + this.pick([-1, -0.5, 0, 0, 0.5, 1]);
    return this.pick([-2, -1, 0, 1, 1.5, 2, 3, 4, 5]);
  }

  private object(s: Record<string, unknown>, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const required = Array.isArray(s.required) ? (s.required as string[]) : [];
    // The generated schemas use PROPS; real ones (the fixture table) their own names, tried after.
    const extra = [...Object.keys(props), ...required].filter((name) => !(PROPS as readonly string[]).includes(name));
    for (const name of [...PROPS, ...new Set(extra)]) {
      const declared = Object.prototype.hasOwnProperty.call(props, name);
      const p = required.includes(name) ? 0.9 : declared ? 0.6 : 0.15;
      if (!this.chance(p)) continue;
      // Mostly aimed at the declaration, sometimes a near-miss of any type (what the other version may send).
      if (declared) out[name] = this.chance(0.1) ? this.any(depth + 1) : this.sample(props[name]!, depth + 1);
      else if (s.additionalProperties !== undefined && typeof s.additionalProperties === 'object') out[name] = this.sample(s.additionalProperties as Schema, depth + 1);
      else out[name] = this.any(depth + 1);
    }
    if (this.chance(0.1)) out.z = this.any(depth + 1);
    return out;
  }

  private array(s: Record<string, unknown>, depth: number): unknown[] {
    const bounds = [s.minItems, s.maxItems].filter((n): n is number => typeof n === 'number');
    const length = bounds.length > 0 && this.chance(0.5) ? Math.max(0, this.pick(bounds) + this.pick([-1, 0, 1])) : Math.floor(this.random() * 4);
    const items = Array.from({ length }, () => this.sample((s.items ?? true) as Schema, depth + 1));
    if (items.length > 1 && this.chance(0.2)) items[1] = structuredClone(items[0]);
    return items;
  }
}

/** Candidate instances for a pair: aimed at the old schema, at the new one, and a few random ones. */
export function candidates(pair: { old: Rooted; new: Rooted }, seed: number, perSide = 30): unknown[] {
  const random = rng(seed);
  const fromOld = new Sampler(random, pair.old.definitions);
  const fromNew = new Sampler(random, pair.new.definitions);
  const out: unknown[] = [];
  for (let i = 0; i < perSide; i++) out.push(fromOld.sample(pair.old.root), fromNew.sample(pair.new.root));
  for (let i = 0; i < 8; i++) out.push(fromOld.any());
  return out;
}
