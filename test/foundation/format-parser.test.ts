import { describe, expect, it } from 'vitest';
import { formatFiles } from '../../src/format/prettier.js';

describe('the format stage', () => {
  it("formats a type Babel's parser refuses with prettier's TypeScript parser (a quoted key before json-schema-to-typescript's `-1[]`)", async () => {
    const [file] = await formatFiles([{ path: 'types.ts', content: 'export interface A {\n"a;"?: -1[][]\n}\n' }]);
    expect(file!.content).toBe("export interface A {\n  'a;'?: -1[][];\n}\n");
  });
});
