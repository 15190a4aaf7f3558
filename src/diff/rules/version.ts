import type { VerdictRule } from '../rule.js';
import type { Finding, Severity } from '../types.js';

interface Semver {
  major: number;
  minor: number;
  patch: number;
}

function parseVersion(version: string): Semver | undefined {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version.trim());
  return match ? { major: Number(match[1]), minor: Number(match[2] ?? 0), patch: Number(match[3] ?? 0) } : undefined;
}

/** Breaking findings need a major bump (a minor one for 0.x): run once every other rule was judged. */
export const VERSION_NOT_BUMPED: VerdictRule = {
  id: 'VERSION_NOT_BUMPED',
  kind: 'verdict',
  category: 'document',
  severity: 'warning',
  purpose: 'The new version has breaking changes but `info.version` did not get a major bump (a minor bump for 0.x versions).',
  message: (a) => `${a.count} breaking change${a.count === '1' ? '' : 's'}, but info.version ${a.version}: breaking changes need a major version bump${a.suggestion ? ` (to ${a.suggestion})` : ''}`,
  check({ old: oldModel, new: newModel, findings }) {
    const count = findings.filter((f) => f.severity === 'breaking').length;
    if (count === 0) return [];
    const before = oldModel.info.version;
    const after = newModel.info.version;
    const a = parseVersion(before);
    const b = parseVersion(after);
    let bumped: boolean;
    if (a && b) bumped = b.major > a.major || (a.major === 0 && b.major === 0 && b.minor > a.minor);
    else bumped = before !== after; // not semver: any change counts
    if (bumped) return [];
    const suggestion = a ? (a.major === 0 ? `0.${a.minor + 1}.0` : `${a.major + 1}.0.0`) : '';
    const version = before === after ? `is still ${after || '(none)'}` : `went from ${before || '(none)'} to ${after || '(none)'}`;
    const finding: Finding = {
      ruleId: VERSION_NOT_BUMPED.id,
      severity: VERSION_NOT_BUMPED.severity as Severity,
      category: VERSION_NOT_BUMPED.category,
      impact: 'none',
      message: `${VERSION_NOT_BUMPED.message({ count: String(count), version, suggestion })}.`,
      operations: [],
      old: { file: oldModel.origin.file, pointer: '/info/version' },
      new: { file: newModel.origin.file, pointer: '/info/version' },
      against: [],
    };
    return [finding];
  },
};
