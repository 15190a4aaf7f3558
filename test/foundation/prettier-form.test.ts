import path from 'node:path';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { inPrettierForm, PRETTIER_OPTIONS, splitHeader } from '../../src/format/prettier.js';
import { formatFiles } from '../../src/format/prettier.js';
import type { GeneratedFile } from '../../src/generators/contract.js';
import { loadDocumentSet } from '../../src/load/document-set.js';
import { renderUnformatted } from '../../src/pipeline/render-document.js';
import { stageTimer } from '../../src/pipeline/timing.js';
import { TARGET_NAMES } from '../../src/targets/registry.js';
import { FIXTURES } from '../helpers/codegen.js';
import { validFixtureDocuments } from '../helpers/fixtures.js';

/** The generators' files for a document, every target, before the format stage. */
async function rendered(document: string, role: 'application' | 'client'): Promise<GeneratedFile[]> {
  const set = await loadDocumentSet(path.join(FIXTURES, document));
  const options = { targets: [...TARGET_NAMES], role, validation: true };
  return (await renderUnformatted(set, options, stageTimer())).rendered;
}

// Files declared in prettier's form skip prettier (src/format/prettier.ts): a template edit or a
// layout in src/view/prettier-form.ts that prettier would print differently must fail here.
describe("files written in prettier's form", () => {
  it.each(validFixtureDocuments().flatMap((document) => [[document, 'application'], [document, 'client']] as const))(
    '%s (%s): prettier leaves every one of them as it is',
    async (document, role) => {
      for (const file of (await rendered(document, role)).filter((f) => f.prettierForm)) {
        const { body } = splitHeader(file.content);
        const kept = (await formatFiles([file]))[0]!.content;
        const formatted = await prettier.format(body, { ...PRETTIER_OPTIONS, filepath: file.path });
        expect(splitHeader(kept).body, `${document} ${file.path}`).toBe(formatted);
      }
    },
    60_000,
  );

  it('are kept without prettier for Streetlights, clients included', async () => {
    const files = await rendered('spec/3.0/streetlights-mqtt-asyncapi.yml', 'application');
    const declared = files.filter((f) => f.prettierForm).map((f) => f.path);
    const clients = ['rabbitmq/client.ts', 'kafka/client.ts', 'nats/client.ts', 'mqtt/client.ts'];
    expect(declared).toEqual(expect.arrayContaining(['operations.ts', 'index.ts', 'validators.ts', 'kafka/index.ts', 'types.ts', ...clients]));
    // A file kept as it is comes back from the format stage without going through prettier: its text is unchanged.
    for (const file of files.filter((f) => f.prettierForm)) {
      expect((await formatFiles([file]))[0]!.content, file.path).toBe(file.content);
    }
  });

  // The format stage skips prettier for a declared file only when every line of its code fits (src/format/prettier.ts).
  it.each(['spec/3.0/streetlights-mqtt-asyncapi.yml', 'example/asyncapi.yaml'])('%s: every client skips prettier', async (document) => {
    const clients = (await rendered(document, 'application')).filter((f) => f.path.endsWith('/client.ts'));
    expect(clients.map((f) => f.path).sort()).toEqual(['kafka/client.ts', 'mqtt/client.ts', 'nats/client.ts', 'rabbitmq/client.ts']);
    for (const file of clients) expect(file.prettierForm && inPrettierForm(splitHeader(file.content).body), file.path).toBe(true);
  });
});

describe('inPrettierForm', () => {
  const wide = 'x'.repeat(PRETTIER_OPTIONS.printWidth);
  it('lets a comment line be wider than the print width or hold other characters, not a line of code', () => {
    expect(inPrettierForm(`/**\n * ${wide} é\n */\nconst a = 1;\n`)).toBe(true);
    expect(inPrettierForm(`  /** ${wide} */\n// ${wide}\nconst a = 1;\n`)).toBe(true);
    expect(inPrettierForm(`/**\n * a\n */\nconst a = '${wide}';\n`)).toBe(false);
    expect(inPrettierForm(`/** a */ const a = '${wide}';\n`)).toBe(false);
    expect(inPrettierForm(`/**\n * a */ const a = '${wide}';\n`)).toBe(false);
    expect(inPrettierForm(`const a = 'é';\n`)).toBe(false);
  });
});
