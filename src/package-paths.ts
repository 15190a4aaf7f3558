import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root folder: one level above this module, in src/ (tests run it) as in dist/. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Build artifacts read at run time: precompiled schemas and templates, the build id. */
export const DIST_DIR = path.join(PACKAGE_ROOT, 'dist');
