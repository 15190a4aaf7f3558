/**
 * The generated code's prettier options. Fixed, not the user's prettier config: the same document
 * must give the same bytes on every machine, and `--check` must not flip when a developer's editor
 * settings change. `babel-ts` parses TypeScript with Babel instead of the TypeScript compiler: the
 * same output on every generated file of every fixture, in 60% of the time (500 channels: 11.5 s →
 * 7.0 s of CPU), and a plugin a third the size to load (docs/DECISIONS.md). The view lays out
 * document-dependent code in this style (src/view/prettier-form.ts).
 */
export const PRETTIER_OPTIONS = { parser: 'babel-ts', printWidth: 120, singleQuote: true, trailingComma: 'all' } as const;
