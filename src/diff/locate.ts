import { indexPositions, positionAt, type Position, type PositionNode } from '../load/positions.js';
import type { SourceFile } from '../load/source-file.js';

/**
 * Line and column of JSON pointers in one file, for findings. `SourceFile.locate` builds a full
 * `yaml` document (with its concrete syntax tree) on first use, which costs seconds on a large
 * document; this index uses where js-yaml saw each node start: recorded while the file was loaded
 * (`LoadOptions.positions`, as `diff` loads), or else by parsing the text once more on first use.
 * A text it cannot index falls back to `SourceFile.locate`; test/diff/locate.test.ts checks both agree.
 */
export class PositionIndex {
  private root?: PositionNode | null;

  constructor(private readonly file: SourceFile) {}

  locate(pointer: string): Position | undefined {
    if (this.root === undefined) this.root = this.file.positions !== undefined ? this.file.positions : indexPositions(this.file.text);
    if (!this.root) return this.file.locate(pointer);
    return positionAt(this.root, pointer);
  }
}
