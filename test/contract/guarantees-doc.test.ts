/**
 * docs/guarantees.md shows the contract's data: its two tables are the ones capabilities.ts renders,
 * and every test file it names exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/codegen.js';
import { capabilitiesTable, SHARED_GUARANTEES, sharedTable } from './capabilities.js';

const DOC = path.join(ROOT, 'docs/guarantees.md');

/** The text between `<!-- name:begin ... -->` and `<!-- name:end -->`. */
function section(text: string, name: string): string {
  const match = new RegExp(`<!-- ${name}:begin[^>]*-->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(text);
  if (!match) throw new Error(`docs/guarantees.md has no ${name} section`);
  return match[1]!;
}

describe('docs/guarantees.md', () => {
  const doc = readFileSync(DOC, 'utf8');

  it('shows the capabilities table rendered from the data the contract tests read', () => {
    expect(section(doc, 'capabilities'), 'paste capabilitiesTable() from test/contract/capabilities.ts').toBe(capabilitiesTable());
  });

  it('shows the table of guarantees shared by every broker, rendered from the same data', () => {
    expect(section(doc, 'shared'), 'paste sharedTable() from test/contract/capabilities.ts').toBe(sharedTable());
  });

  it('names only test files that exist', () => {
    const named = new Set([...doc.matchAll(/test\/[\w/.-]+\.(?:test\.)?ts/g)].map((match) => match[0]));
    for (const guarantee of SHARED_GUARANTEES) named.add(`test/contract/${guarantee.file}`);
    const missing = [...named].filter((file) => !existsSync(path.join(ROOT, file)));
    expect(missing).toEqual([]);
  });

  it('is linked from the README', () => {
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain('](docs/guarantees.md)');
  });
});
