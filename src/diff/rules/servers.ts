import type { ServerModel } from '../../model/types.js';
import type { StructureRule } from '../structure/context.js';

/** `amqp://rabbit.example.com:5672`; a host already written with its scheme is shown as written. */
export function serverUrl(server: ServerModel): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(server.host) ? server.host : `${server.protocol}://${server.host}`;
}

export const SERVER_REMOVED: StructureRule = {
  id: 'SERVER_REMOVED',
  kind: 'structure',
  category: 'server',
  severity: 'breaking',
  purpose: 'A server was removed: every client configured from the document with it loses its broker.',
  message: (a) => `server \`${a.id}\` (${a.url}) was removed: clients configured with it can no longer connect`,
  check(ctx) {
    for (const server of ctx.servers.removed) {
      ctx.report(SERVER_REMOVED, { args: { id: server.id, url: serverUrl(server) }, old: server.origin });
    }
  },
};

export const SERVER_ADDED: StructureRule = {
  id: 'SERVER_ADDED',
  kind: 'structure',
  category: 'server',
  severity: 'info',
  purpose: 'A server was added.',
  message: (a) => `server \`${a.id}\` (${a.url}) was added`,
  check(ctx) {
    for (const server of ctx.servers.added) ctx.report(SERVER_ADDED, { args: { id: server.id, url: serverUrl(server) }, new: server.origin });
  },
};

export const SERVER_RENAMED: StructureRule = {
  id: 'SERVER_RENAMED',
  kind: 'structure',
  category: 'server',
  severity: 'info',
  purpose: 'A server got another key in the document but keeps its protocol and host.',
  message: (a) => `server \`${a.from}\` was renamed to \`${a.to}\` (same ${a.url})`,
  check(ctx) {
    for (const { old, new: next, renamed } of ctx.servers.pairs) {
      if (renamed) ctx.report(SERVER_RENAMED, { args: { from: old.id, to: next.id, url: serverUrl(next) }, old: old.origin, new: next.origin });
    }
  },
};

export const SERVER_HOST_CHANGED: StructureRule = {
  id: 'SERVER_HOST_CHANGED',
  kind: 'structure',
  category: 'server',
  severity: 'breaking',
  purpose: 'A server moved to another host, port or path: every client configured from the document with the old address loses its broker.',
  message: (a) => `server \`${a.id}\` moved from ${a.from} to ${a.to}: clients configured with the old address can no longer connect`,
  check(ctx) {
    for (const { old, new: next } of ctx.servers.pairs) {
      const before = `${old.host}${old.pathname ?? ''}`;
      const after = `${next.host}${next.pathname ?? ''}`;
      if (before !== after) ctx.report(SERVER_HOST_CHANGED, { args: { id: next.id, from: before, to: after }, old: old.origin, new: next.origin });
    }
  },
};

export const SERVER_PROTOCOL_CHANGED: StructureRule = {
  id: 'SERVER_PROTOCOL_CHANGED',
  kind: 'structure',
  category: 'server',
  severity: 'breaking',
  purpose: 'A server changed protocol (or protocol version): existing clients cannot talk to it.',
  message: (a) => `server \`${a.id}\` changed protocol from ${a.from} to ${a.to}`,
  check(ctx) {
    for (const { old, new: next } of ctx.servers.pairs) {
      const before = `${old.protocol}${old.protocolVersion ? ` ${old.protocolVersion}` : ''}`;
      const after = `${next.protocol}${next.protocolVersion ? ` ${next.protocolVersion}` : ''}`;
      if (old.protocol !== next.protocol || (old.protocolVersion && next.protocolVersion && old.protocolVersion !== next.protocolVersion)) {
        ctx.report(SERVER_PROTOCOL_CHANGED, { args: { id: next.id, from: before, to: after }, old: old.origin, new: next.origin });
      }
    }
  },
};

export const serverRules = [SERVER_REMOVED, SERVER_ADDED, SERVER_RENAMED, SERVER_HOST_CHANGED, SERVER_PROTOCOL_CHANGED];
