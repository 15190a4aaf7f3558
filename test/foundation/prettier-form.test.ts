import path from 'node:path';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { PRETTIER_OPTIONS, splitHeader } from '../../src/format/prettier.js';
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

  it('are kept without prettier for Streetlights', async () => {
    const files = await rendered('spec/3.0/streetlights-mqtt-asyncapi.yml', 'application');
    const declared = files.filter((f) => f.prettierForm).map((f) => f.path);
    expect(declared).toEqual(expect.arrayContaining(['operations.ts', 'index.ts', 'validators.ts', 'kafka/index.ts', 'types.ts']));
    // A file kept as it is comes back from the format stage without going through prettier: its text is unchanged.
    for (const file of files.filter((f) => f.prettierForm)) {
      expect((await formatFiles([file]))[0]!.content, file.path).toBe(file.content);
    }
  });
});
