import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, git, project } from './support.js';

// An old version that does not validate (an unknown key where the 3.0 schema allows none) but reads
// into the model: `codegen --against` compares it best-effort unless the config asks for a valid base.
async function repositoryWithInvalidBase(label: string, strictBase: boolean | undefined): Promise<string> {
  const compatibility = strictBase === undefined ? {} : { strictBase };
  const dir = project(label, {
    'codegen.config.json': JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'out', compatibility }] }),
  });
  const document = path.join(dir, 'asyncapi.yaml');
  const valid = readFileSync(document, 'utf8');
  writeFileSync(document, valid.replace('defaultContentType: application/json', 'defaultContentType: application/json\nnotAnAsyncApiKey: true'));
  await git(dir, 'init', '-q');
  await git(dir, 'add', '.');
  await git(dir, 'commit', '-qm', 'an invalid base');
  writeFileSync(document, valid);
  return dir;
}

describe('compatibility.strictBase in the config', () => {
  it('compares an invalid old version best-effort by default, with its errors as warnings', async () => {
    const result = await cli(['--check', '--against', 'HEAD', '--json'], await repositoryWithInvalidBase('strict-base-off', undefined));
    const entry = JSON.parse(result.stdout).entries[0];
    expect(entry.compatibility.report.bestEffort).toEqual(['HEAD:asyncapi.yaml']);
    // The comparison ran (the missing output folder is --check's own finding).
    expect(entry.compatibility.exitCode).toBe(0);
    expect(JSON.stringify(entry.compatibility.report)).toContain('BASE_INVALID');
  });

  it('refuses it (exit 2) when strictBase is true, as `codegen diff --strict-base` does', async () => {
    const result = await cli(['--check', '--against', 'HEAD'], await repositoryWithInvalidBase('strict-base-on', true));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('notAnAsyncApiKey');
  });

  it('is a boolean', async () => {
    const dir = project('strict-base-type', {
      'codegen.config.json': JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'out', compatibility: { strictBase: 'yes' } }] }),
    });
    const result = await cli(['--check'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('compatibility.strictBase: must be true or false');
  });
});
