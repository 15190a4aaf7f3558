import type { GeneratedFile } from '../generators/contract.js';

/**
 * Fixed options, not the user's prettier config: the same document must give the same bytes on
 * every machine, and `--check` must not flip when a developer's editor settings change.
 */
export const PRETTIER_OPTIONS = { parser: 'typescript', printWidth: 120, singleQuote: true, trailingComma: 'all' } as const;

/** Formats TypeScript files in memory with prettier's standalone build (lighter to load than the CLI entry). */
export async function formatFiles(files: GeneratedFile[]): Promise<GeneratedFile[]> {
  const [{ format }, typescript, estree] = await Promise.all([
    import('prettier/standalone'),
    import('prettier/plugins/typescript'),
    import('prettier/plugins/estree'),
  ]);
  const plugins = [typescript.default ?? typescript, estree.default ?? estree];
  return Promise.all(
    files.map(async (file) => {
      if (!file.path.endsWith('.ts')) return file;
      try {
        return { path: file.path, content: await format(file.content, { ...PRETTIER_OPTIONS, plugins: plugins as never }) };
      } catch (error) {
        throw new Error(`internal: generated ${file.path} is not valid TypeScript: ${(error as Error).message.split('\n')[0]}`);
      }
    }),
  );
}
