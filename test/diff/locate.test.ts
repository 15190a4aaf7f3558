import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PositionIndex } from '../../src/diff/locate.js';
import { parseSourceText } from '../../src/load/source-file.js';
import { FIXTURES } from '../helpers/codegen.js';

/** Every pointer of a value, root first. */
function pointers(value: unknown, pointer = ''): string[] {
  const out = [pointer];
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) out.push(...pointers((value as Record<string, unknown>)[key], `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`));
  }
  return out;
}

describe('finding positions (the js-yaml index) agree with SourceFile.locate', () => {
  const example = readFileSync(path.join(FIXTURES, 'example/asyncapi.yaml'), 'utf8');
  const texts: Record<string, string> = {
    'block YAML': example,
    'pretty JSON': JSON.stringify(parse(example), null, 2),
    'minified JSON': JSON.stringify(parse(example)),
    'flow YAML': readFileSync(path.join(FIXTURES, 'diff/cases/schema-oneof-branch-added.yaml'), 'utf8'),
    '2.6 document': readFileSync(path.join(FIXTURES, 'spec/2.6/streetlights-kafka.yml'), 'utf8'),
  };
  for (const [name, text] of Object.entries(texts)) {
    it(name, () => {
      const file = parseSourceText(`/doc-${name}`, 'doc.yaml', text);
      const index = new PositionIndex({ ...file, locate: () => undefined });
      const all = pointers(file.data);
      expect(all.length).toBeGreaterThan(20);
      for (const pointer of all) expect(index.locate(pointer), pointer).toEqual(file.locate(pointer));
    });

    it(`${name}: positions recorded while loading`, () => {
      const file = parseSourceText(`/doc-${name}`, 'doc.yaml', text, { positions: true });
      // JSON is read by JSON.parse: nothing is recorded, the index parses the text on first use.
      expect(file.positions === undefined).toBe(name.endsWith('JSON'));
      // Without the text, the recorded positions are all the index has.
      const index = new PositionIndex({ ...file, text: file.positions ? '' : text, locate: () => undefined });
      for (const pointer of pointers(file.data)) expect(index.locate(pointer), pointer).toEqual(file.locate(pointer));
    });
  }

  it('places a pointer that does not exist at its nearest existing ancestor', () => {
    const file = parseSourceText('/doc', 'doc.yaml', 'a:\n  b:\n    c: 1\n');
    const index = new PositionIndex(file);
    expect(index.locate('/a/b/missing/deeper')).toEqual(file.locate('/a/b'));
    expect(index.locate('/a/b/missing')).toEqual({ line: 2, column: 3 });
  });
});
