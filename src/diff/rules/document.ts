import type { StructureRule } from '../structure/context.js';

export const ASYNCAPI_VERSION_CHANGED: StructureRule = {
  id: 'ASYNCAPI_VERSION_CHANGED',
  kind: 'structure',
  category: 'document',
  severity: 'info',
  purpose: 'The document moved to another AsyncAPI version (2.x → 3.x is compared through the shared model).',
  message: (a) => `the document moved from AsyncAPI ${a.from} to ${a.to}`,
  check(ctx) {
    if (ctx.old.asyncapiVersion !== ctx.new.asyncapiVersion) {
      ctx.report(ASYNCAPI_VERSION_CHANGED, {
        args: { from: ctx.old.asyncapiVersion, to: ctx.new.asyncapiVersion },
        old: { file: ctx.old.origin.file, pointer: '/asyncapi' },
        new: { file: ctx.new.origin.file, pointer: '/asyncapi' },
      });
    }
  },
};

export const INFO_VERSION_CHANGED: StructureRule = {
  id: 'INFO_VERSION_CHANGED',
  kind: 'structure',
  category: 'document',
  severity: 'info',
  purpose: "The API's own version (`info.version`) changed; a version change alone is never breaking.",
  message: (a) => `The API version (info.version) went from ${a.from} to ${a.to}`,
  check(ctx) {
    if (ctx.old.info.version !== ctx.new.info.version) {
      ctx.report(INFO_VERSION_CHANGED, {
        args: { from: ctx.old.info.version || '(none)', to: ctx.new.info.version || '(none)' },
        old: { file: ctx.old.origin.file, pointer: '/info/version' },
        new: { file: ctx.new.origin.file, pointer: '/info/version' },
      });
    }
  },
};

export const documentRules = [ASYNCAPI_VERSION_CHANGED, INFO_VERSION_CHANGED];
