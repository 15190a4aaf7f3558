import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { PRETTIER_OPTIONS } from '../../src/format/prettier.js';
import { breaksTypeArgumentsFirst } from '../../src/view/code-layout.js';
import { arrowConcatenation, listLayout, typedObjectDeclaration } from '../../src/view/prettier-form.js';

/** Code the format stage would keep as it is (every line within the width) must be what prettier prints. */
async function expectKeptOnlyIfPrettierForm(code: string): Promise<void> {
  if (code.split('\n').some((line) => line.length > PRETTIER_OPTIONS.printWidth)) return;
  expect(await prettier.format(code, { ...PRETTIER_OPTIONS, filepath: 'x.ts' })).toBe(code);
}

// Names from 60 to 130 characters long: every layout on both sides of the print width.
const names = Array.from({ length: 71 }, (_, index) => 'n'.repeat(60 + index));

describe("the view's layouts, on both sides of the print width", () => {
  it('a call with one argument', async () => {
    for (const name of names) {
      await expectKeptOnlyIfPrettierForm(listLayout('', { open: `const ${name} = new RegExp(`, items: ["'^a\\\\.b$'"], close: ');', padded: false, trailingComma: true }) + '\n');
    }
  });

  it('an import list', async () => {
    for (const name of names) {
      const items = [name.slice(0, 30), name.slice(0, 20), 'Other'];
      await expectKeptOnlyIfPrettierForm(listLayout('', { open: 'import type {', items: [...items, name.slice(30)], close: "} from './types.js';", padded: true, trailingComma: true }) + '\n');
    }
  });

  it('a typed declaration assigned an object', async () => {
    for (const name of names) {
      const types = [`types.${name.slice(0, 20)}`, 'types.A | types.B', 'Record<string, never>'];
      // From 20 characters: on one line, only ` {` too wide, and the type arguments broken.
      // With a generic argument prettier breaks the type arguments first; without, it moves the object to the next line.
      for (const typeArguments of [types, types.slice(0, 2)]) {
        const breakFirst = breaksTypeArgumentsFirst(`Spec<${typeArguments.join(', ')}>`);
        const { head, objectOnNextLine } = typedObjectDeclaration(`export const ${name.slice(40)}: Spec<`, typeArguments, breakFirst);
        await expectKeptOnlyIfPrettierForm(objectOnNextLine ? `${head}\n  {\n    a: 1,\n  };\n` : `${head}\n  a: 1,\n};\n`);
      }
    }
  });

  it("an object property's arrow returning a concatenation", async () => {
    for (const name of names) {
      const operands = [`'${name.slice(0, 40)}/'`, "segment(parameters?.['id'], 'id')", `'/${name.slice(40)}'`];
      await expectKeptOnlyIfPrettierForm(`const o = {\n${arrowConcatenation('  ', 'buildAddress: (parameters) =>', operands, ',')}\n};\n`);
      await expectKeptOnlyIfPrettierForm(`const o = {\n${arrowConcatenation('  ', 'buildAddress: () =>', [`'${name}'`], ',')}\n};\n`);
    }
  });
});
