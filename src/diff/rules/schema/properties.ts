import type { SchemaRule } from '../../schema/walk.js';
import { forbids, propertyConstrainedWithin, requiredOf, requiresThroughComposition } from '../../schema/effective.js';
import { acceptsEverything } from '../../schema/node.js';

export const SCHEMA_PROPERTY_ADDED_CLOSED_MODEL: SchemaRule = {
  id: 'SCHEMA_PROPERTY_ADDED_CLOSED_MODEL',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A property was added to an object that did not allow undeclared properties (additionalProperties: false).',
  message: (a) => `${a.subject} was added to ${a.container}, whose old version allows no undeclared properties`,
  consequence: { widens: 'consumers validating against the old schema will reject new events that carry it' },
  check(pair) {
    for (const entry of pair.properties()) {
      if (entry.old.kind === 'closed' && entry.new.kind === 'declared' && !entry.new.node.isFalse) {
        pair.report(SCHEMA_PROPERTY_ADDED_CLOSED_MODEL, 'widens', {}, { below: entry.name, oldAt: ['additionalProperties'], newAt: ['properties', entry.name] });
      }
    }
  },
};

export const SCHEMA_PROPERTY_ADDED_OPEN_MODEL: SchemaRule = {
  id: 'SCHEMA_PROPERTY_ADDED_OPEN_MODEL',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A property was declared with a schema on an object that accepted any value under that name before.',
  message: (a) => `${a.subject} was added to ${a.container}, where any value under that name was accepted before`,
  consequence: { narrows: 'events from producers that already send it with other values will be rejected' },
  check(pair) {
    for (const entry of pair.properties()) {
      if (entry.old.kind === 'open' && entry.new.kind === 'declared' && !acceptsEverything(entry.new.node)) {
        pair.report(SCHEMA_PROPERTY_ADDED_OPEN_MODEL, 'narrows', {}, { below: entry.name, oldAt: ['properties'], newAt: ['properties', entry.name] });
      }
    }
  },
};

export const SCHEMA_PROPERTY_REMOVED_CLOSED_MODEL: SchemaRule = {
  id: 'SCHEMA_PROPERTY_REMOVED_CLOSED_MODEL',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A property was removed from an object that allows no undeclared properties: it is now forbidden.',
  message: (a) => `${a.subject} was removed from ${a.container}, which allows no undeclared properties${a.required === 'yes' ? ' (it was required: now it is forbidden)' : ''}`,
  consequence: {
    narrows: 'events from producers still sending it will be rejected',
    both: 'old events carry it and are rejected by the new schema; new events lack it and are rejected by the old one',
  },
  check(pair) {
    const required = new Set(requiredOf(pair.old.schema));
    for (const entry of pair.properties()) {
      if (entry.old.kind === 'declared' && !entry.old.node.isFalse && entry.new.kind === 'closed') {
        // A required property removed is forbidden now, not optional: one finding, both ways.
        const wasRequired = required.has(entry.name);
        pair.report(SCHEMA_PROPERTY_REMOVED_CLOSED_MODEL, wasRequired ? 'both' : 'narrows', { required: wasRequired ? 'yes' : 'no' }, { below: entry.name, oldAt: ['properties', entry.name], newAt: ['additionalProperties'] });
      }
    }
  },
};

export const SCHEMA_PROPERTY_REMOVED_OPEN_MODEL: SchemaRule = {
  id: 'SCHEMA_PROPERTY_REMOVED_OPEN_MODEL',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A property was removed from an open object: any value is now accepted under that name.',
  message: (a) => `${a.subject} was removed from ${a.container}; any value is now accepted under that name`,
  consequence: { widens: 'consumers validating against the old schema reject new events that carry it with another value' },
  check(pair) {
    for (const entry of pair.properties()) {
      if (entry.old.kind === 'declared' && !acceptsEverything(entry.old.node) && entry.new.kind === 'open') {
        // Moved into the composition (every oneOf branch declares it within the old schema): not removed.
        const before = entry.old.node;
        if (propertyConstrainedWithin(pair.new, entry.name, (after) => pair.accepts(before, after))) continue;
        pair.report(SCHEMA_PROPERTY_REMOVED_OPEN_MODEL, 'widens', {}, { below: entry.name, oldAt: ['properties', entry.name], newAt: ['properties'] });
      }
    }
  },
};

export const SCHEMA_REQUIRED_ADDED: SchemaRule = {
  id: 'SCHEMA_REQUIRED_ADDED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A property became required.',
  message: (a) => `${a.subject} became required in ${a.container}`,
  consequence: { narrows: 'events from producers that leave it out will be rejected' },
  check(pair) {
    const before = new Set(requiredOf(pair.old.schema));
    requiredOf(pair.new.schema).forEach((name, index) => {
      if (!before.has(name)) pair.report(SCHEMA_REQUIRED_ADDED, 'narrows', {}, { below: name, oldAt: ['required'], newAt: ['required', index] });
    });
  },
};

export const SCHEMA_REQUIRED_REMOVED: SchemaRule = {
  id: 'SCHEMA_REQUIRED_REMOVED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A required property became optional.',
  message: (a) => `${a.subject} became optional in ${a.container}`,
  consequence: { widens: 'consumers that require it will reject new events' },
  check(pair) {
    const after = new Set(requiredOf(pair.new.schema));
    requiredOf(pair.old.schema).forEach((name, index) => {
      if (!after.has(name) && !requiresThroughComposition(pair.new, name) && !forbids(pair.new, name)) pair.report(SCHEMA_REQUIRED_REMOVED, 'widens', {}, { below: name, oldAt: ['required', index], newAt: ['required'] });
    });
  },
};

export const SCHEMA_ADDITIONAL_PROPERTIES_CLOSED: SchemaRule = {
  id: 'SCHEMA_ADDITIONAL_PROPERTIES_CLOSED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'An object that accepted undeclared properties no longer does (additionalProperties: false).',
  message: (a) => `${a.subject} no longer accepts undeclared properties in ${a.container}`,
  consequence: { narrows: 'events from producers that send extra properties will be rejected' },
  check(pair) {
    if (pair.new.schema.additionalProperties === false && pair.old.schema.additionalProperties !== false) {
      pair.report(SCHEMA_ADDITIONAL_PROPERTIES_CLOSED, 'narrows', {}, { oldAt: ['additionalProperties'], newAt: ['additionalProperties'] });
    }
  },
};

export const SCHEMA_ADDITIONAL_PROPERTIES_OPENED: SchemaRule = {
  id: 'SCHEMA_ADDITIONAL_PROPERTIES_OPENED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'An object that rejected undeclared properties now accepts them.',
  message: (a) => `${a.subject} now accepts undeclared properties in ${a.container}`,
  consequence: { widens: 'consumers validating against the old schema reject new events that carry extra properties' },
  check(pair) {
    if (pair.old.schema.additionalProperties === false && pair.new.schema.additionalProperties !== false) {
      pair.report(SCHEMA_ADDITIONAL_PROPERTIES_OPENED, 'widens', {}, { oldAt: ['additionalProperties'], newAt: ['additionalProperties'] });
    }
  },
};

export const propertyRules = [
  SCHEMA_PROPERTY_ADDED_CLOSED_MODEL,
  SCHEMA_PROPERTY_ADDED_OPEN_MODEL,
  SCHEMA_PROPERTY_REMOVED_CLOSED_MODEL,
  SCHEMA_PROPERTY_REMOVED_OPEN_MODEL,
  SCHEMA_REQUIRED_ADDED,
  SCHEMA_REQUIRED_REMOVED,
  SCHEMA_ADDITIONAL_PROPERTIES_CLOSED,
  SCHEMA_ADDITIONAL_PROPERTIES_OPENED,
];
