import { RULES } from './registry.js';
import type { Category } from './types.js';

const TITLES: Record<Category, string> = {
  document: 'Document',
  server: 'Servers',
  channel: 'Channels',
  operation: 'Operations',
  message: 'Messages',
  schema: 'JSON Schema (payloads, headers, channel parameters, Kafka keys)',
  avro: 'Avro payloads',
  binding: 'Bindings',
};

/**
 * The rule reference of docs/diff.md, generated from the registry so it cannot drift
 * (test/diff/registry.test.ts compares it with the file).
 */
export function rulesReference(): string {
  const out: string[] = [];
  for (const category of Object.keys(TITLES) as Category[]) {
    const rules = RULES.filter((rule) => rule.category === category);
    if (rules.length === 0) continue;
    out.push(`### ${TITLES[category]}`, '', '| Rule | Severity | Purpose |', '|---|---|---|');
    for (const rule of rules) {
      const severity = rule.severity === 'directional' ? 'by direction' : rule.severity;
      const purpose = rule.deprecated ? `Deprecated: replaced by \`${rule.deprecated.replacedBy}\`. ${rule.purpose}` : rule.purpose;
      out.push(`| \`${rule.id}\` | ${severity} | ${purpose.replace(/\|/g, '\\|')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
