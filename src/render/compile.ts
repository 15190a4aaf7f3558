import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Handlebars from 'handlebars';
import { DIST_DIR } from '../package-paths.js';

const require = createRequire(import.meta.url);
// The runtime build renders precompiled templates; the compiler (the full build, twice the code to
// load) is loaded only for a template that was not precompiled (compiledAtRunTime).
const runtime = require('handlebars/runtime') as typeof Handlebars;

/** A Handlebars environment of its own (helpers, partials) that renders templates from compileTemplate. */
export function createEnvironment(): typeof Handlebars {
  return runtime.create();
}

/**
 * Handlebars without HTML escaping (wrong for TypeScript) and in strict mode (a missing field throws
 * instead of printing nothing). Partials are compiled with the same options as templates.
 */
export function compileOptions(): CompileOptions {
  // A fresh object each time: Handlebars adds its own fields to the options it is given.
  return { noEscape: true, strict: true };
}

type CompileOptions = NonNullable<Parameters<typeof Handlebars.compile>[1]>;
const OPTIONS_KEY = JSON.stringify(compileOptions());

/** Built-in templates precompiled at build time (scripts/precompile-templates.mjs), keyed by content. */
export const PRECOMPILED_TEMPLATES = path.join(DIST_DIR, 'precompiled-templates.cjs');

type TemplateSpec = Parameters<typeof Handlebars.template>[0];
let shipped: Record<string, TemplateSpec> | null | undefined;

/** The key of a template's text: the same text with the same Handlebars release compiles to the same code. */
export function templateKey(source: string): string {
  return createHash('sha256').update(`${runtime.VERSION}\0${OPTIONS_KEY}\0${source}`).digest('hex').slice(0, 32);
}

function precompiled(): Record<string, TemplateSpec> | null {
  if (shipped === undefined) {
    shipped = existsSync(PRECOMPILED_TEMPLATES) ? (require(PRECOMPILED_TEMPLATES) as Record<string, TemplateSpec>) : null;
  }
  return shipped;
}

/**
 * Compiles a template's text. Handlebars parses and generates code for every template on each cold run
 * (about a tenth of it for a small document), so the built-in templates ship precompiled; a template
 * whose text is not among them (a user's override, a template edited since the build) is compiled here.
 */
export function compileTemplate(handlebars: typeof Handlebars, source: string): Handlebars.TemplateDelegate {
  const spec = precompiled()?.[templateKey(source)];
  return spec ? handlebars.template(spec) : compiledAtRunTime(handlebars, source);
}

/**
 * What `Handlebars.compile` gives, bound to `handlebars` (its helpers and partials): the template is
 * compiled on first use, so a syntax error is reported where rendering reports errors, as before.
 */
function compiledAtRunTime(handlebars: typeof Handlebars, source: string): Handlebars.TemplateDelegate {
  let template: Handlebars.TemplateDelegate | undefined;
  return (context, options) => {
    if (!template) {
      const compiler = require('handlebars') as typeof Handlebars;
      // The same spec the build precompiles (scripts/precompile-templates.mjs), as an object.
      template = handlebars.template(new Function(`return ${compiler.precompile(source, compileOptions())}`)() as TemplateSpec);
    }
    return template(context, options);
  };
}
