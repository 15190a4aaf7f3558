import type { Role } from '../model/role.js';
import type { ApiModel } from '../model/types.js';
import type { Renderer } from '../render/renderer.js';
import type { RuntimeSource } from '../render/runtime-source.js';
import type { CoreView } from '../view/core-view.js';

/** A file the pipeline will format and write: a path relative to the output folder, and its text. */
export interface GeneratedFile {
  path: string;
  content: string;
  /**
   * False for machine code emitted as its compiler writes it (ajv's standalone validators):
   * prettier would take ~30 s and triple the size on a 500-channel document (docs/DECISIONS.md).
   */
  format?: boolean;
  /**
   * The generator wrote this file in prettier's form (built-in templates around code the view laid
   * out, src/view/prettier-form.ts): the format stage keeps it as it is unless a line is too wide
   * for the view's layouts to have been sure. test/foundation/prettier-form.test.ts checks that
   * prettier would leave every such file unchanged, on every fixture and target.
   */
  prettierForm?: boolean;
}

/** Everything a generator may read. Generators never touch the disk, the terminal or the process. */
export interface GeneratorContext {
  model: ApiModel;
  view: CoreView;
  renderer: Renderer;
  /** The run-time source (`runtime/`), copied into the output with the generated header. */
  runtime: RuntimeSource;
  options: GenerationOptions;
}

/** Options resolved once per run (defaults applied) and passed to every generator. */
export interface GenerationOptions {
  targets: string[];
  generatorVersion: string;
  /** CloudEvents `source` for producers; defaults to a path derived from the document title. */
  eventSource?: string;
  /** Whose code: the document's application, or a client of it (operations seen the other way round). */
  role: Role;
  /** Whether generated clients validate by default. */
  validation: boolean;
}

/** One generator: the types, the validators, the runtime, or a broker target. */
export interface Generator {
  name: string;
  generate(context: GeneratorContext): Promise<GeneratedFile[]> | GeneratedFile[];
}

/**
 * Renders every template of a folder (`templates/<folder>/x.ts.hbs` → `<outputFolder>/x.ts`).
 * Built-in templates and their views write prettier's form (a user's template need not), so their files may skip prettier.
 */
export function renderFolder(context: GeneratorContext, folder: string, outputFolder: string, view: object): GeneratedFile[] {
  return context.renderer.list(folder).map((name) => ({
    path: joinOutput(outputFolder, name.slice(folder.length + 1).replace(/\.hbs$/, '')),
    content: context.renderer.render(name, view),
    ...(context.renderer.isBuiltIn(name) ? { prettierForm: true } : {}),
  }));
}

function joinOutput(folder: string, file: string): string {
  return folder ? `${folder}/${file}` : file;
}

/**
 * A broker target's files: its templates (`templates/<name>/` → `<out>/<name>/`), an index that
 * exports the client and the run-time's public surface (`runtime/<name>/index.ts`), and the run-time
 * source (`runtime/<name>/` → `<out>/runtime/<name>/`). A target's view lays out its client as prettier
 * prints it (src/view/code-layout.ts), so the client may skip prettier.
 */
export function targetFiles(context: GeneratorContext, name: string, view: object): GeneratedFile[] {
  return [
    ...renderFolder(context, name, name, view),
    { path: `${name}/index.ts`, content: context.renderer.render('core/target-index.ts.hbs', { ...context.view, targetName: name }), prettierForm: context.renderer.isBuiltIn('core/target-index.ts.hbs') },
    ...context.runtime.folder(name, context.view),
  ];
}
