import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The npm package's name (`npm install --save-dev asyncapi-codegen-ts`; its binary is `codegen`).
 * The npm name `codegen` belongs to another package.
 */
export const PACKAGE_NAME = 'asyncapi-codegen-ts';

/** The package's root folder: one level above this module, in src/ (tests run it) as in dist/. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Build artifacts read at run time: precompiled schemas and templates, the build id. */
export const DIST_DIR = path.join(PACKAGE_ROOT, 'dist');
