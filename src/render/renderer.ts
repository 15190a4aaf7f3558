import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type Handlebars from 'handlebars';
import { usageError } from '../errors.js';
import { compileTemplate, createEnvironment } from './compile.js';

import { BUILTIN_TEMPLATES_DIR } from './paths.js';

export { BUILTIN_TEMPLATES_DIR };

export interface Renderer {
  /** Renders `templates/<name>` (e.g. `core/index.ts.hbs`) with a prepared view. */
  render(name: string, view: object): string;
  /** Template names under a folder of the template tree, e.g. `rabbitmq` → [`rabbitmq/client.ts.hbs`]. */
  list(folder: string): string[];
  /**
   * Whether `name` renders from built-in templates only (itself and the partials): only those are
   * written in prettier's form, so only their output may skip prettier.
   */
  isBuiltIn(name: string): boolean;
}

/**
 * Templates only place values the view already escaped (compile options: ./compile.ts). A user's
 * template folder overrides any built-in template with the same relative path or file name.
 */
export function createRenderer(overrideDir?: string): Renderer {
  const handlebars = createEnvironment();
  const compiled = new Map<string, Handlebars.TemplateDelegate>();
  const partialsDir = path.join(BUILTIN_TEMPLATES_DIR, 'partials');
  if (overrideDir && !existsSync(overrideDir)) {
    throw usageError('E_TEMPLATES_DIR', `template folder ${overrideDir} does not exist`);
  }
  const partials = existsSync(partialsDir) ? readdirSync(partialsDir).sort() : [];
  for (const file of partials) {
    const name = file.replace(/\.hbs$/, '');
    handlebars.registerPartial(name, compileTemplate(handlebars, readTemplate(`partials/${file}`, overrideDir)));
  }
  const partialsBuiltIn = partials.every((file) => overridingFile(`partials/${file}`, overrideDir) === undefined);
  handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);

  return {
    render(name, view) {
      let template = compiled.get(name);
      if (!template) {
        template = compileTemplate(handlebars, readTemplate(name, overrideDir));
        compiled.set(name, template);
      }
      try {
        return template(view);
      } catch (error) {
        throw new Error(`template ${name}: ${(error as Error).message}`);
      }
    },
    isBuiltIn(name) {
      return partialsBuiltIn && overridingFile(name, overrideDir) === undefined;
    },
    list(folder) {
      const dir = path.join(BUILTIN_TEMPLATES_DIR, folder);
      return walk(dir).map((file) => path.posix.join(folder, file));
    },
  };
}

function readTemplate(name: string, overrideDir: string | undefined): string {
  return readFileSync(overridingFile(name, overrideDir) ?? path.join(BUILTIN_TEMPLATES_DIR, name), 'utf8');
}

/** The user's template replacing a built-in one: same relative path, else same file name. */
function overridingFile(name: string, overrideDir: string | undefined): string | undefined {
  if (!overrideDir) return undefined;
  return [path.join(overrideDir, name), path.join(overrideDir, path.basename(name))].find((candidate) => existsSync(candidate));
}

function walk(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walk(path.join(dir, entry.name), relative));
    else if (entry.name.endsWith('.hbs')) out.push(relative);
  }
  return out;
}
