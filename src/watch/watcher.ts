import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/**
 * Watches a set of files and folders through their parent folders: editors that save by writing a
 * temporary file and renaming it over the original replace the file's inode, which a watcher on
 * the file itself would lose. Events for names outside the set (our own output, temporary files)
 * are ignored, so a run never triggers itself.
 */
export class FileSet {
  private readonly watchers = new Map<string, FSWatcher>();
  /** Folder → names watched in it. */
  private files = new Map<string, Set<string>>();
  /** Folders where any change counts (template folders, watched recursively). */
  private trees = new Set<string>();

  constructor(private readonly onChange: (file: string) => void) {}

  /** Replaces what is watched. Missing folders are skipped (a later update may add them). */
  update(files: Iterable<string>, trees: Iterable<string> = []): void {
    const byDir = new Map<string, Set<string>>();
    for (const file of files) {
      const dir = path.dirname(file);
      if (!byDir.has(dir)) byDir.set(dir, new Set());
      byDir.get(dir)!.add(path.basename(file));
    }
    this.files = byDir;
    this.trees = new Set(trees);
    const wanted = new Set<string>([...byDir.keys()].map((dir) => `f:${dir}`).concat([...this.trees].map((dir) => `t:${dir}`)));
    for (const [key, watcher] of this.watchers) {
      if (!wanted.has(key)) {
        watcher.close();
        this.watchers.delete(key);
      }
    }
    for (const key of wanted) {
      if (this.watchers.has(key)) continue;
      const tree = key.startsWith('t:');
      const dir = key.slice(2);
      try {
        const watcher = watch(dir, { persistent: true, recursive: tree }, (_event, name) => this.event(dir, tree, name));
        watcher.on('error', () => {
          // The folder went away; the next update decides whether to watch it again.
          watcher.close();
          this.watchers.delete(key);
        });
        this.watchers.set(key, watcher);
      } catch {
        // Folder missing: nothing to watch there yet.
      }
    }
  }

  /** How many files and folders are watched (for the start message). */
  get size(): number {
    let count = this.trees.size;
    for (const names of this.files.values()) count += names.size;
    return count;
  }

  close(): void {
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private event(dir: string, tree: boolean, name: string | Buffer | null): void {
    if (tree) {
      this.onChange(name ? path.join(dir, name.toString()) : dir);
      return;
    }
    if (!name) {
      // Some platforms do not say which file changed: count every watched file of the folder.
      for (const file of this.files.get(dir) ?? []) this.onChange(path.join(dir, file));
      return;
    }
    const base = name.toString();
    if (this.files.get(dir)?.has(base)) this.onChange(path.join(dir, base));
  }
}

/**
 * Collects changes and hands them out in batches once nothing has changed for `delayMs`
 * (an editor's save often fires several events).
 */
export class Debouncer {
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private ready = false;
  private wake: (() => void) | undefined;

  constructor(private readonly delayMs: number) {}

  add(file: string): void {
    this.pending.add(file);
    this.ready = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ready = true;
      this.wake?.();
    }, this.delayMs);
  }

  /** The next batch of changed files, or undefined when `signal` aborts first. */
  async next(signal: AbortSignal): Promise<Set<string> | undefined> {
    while (!signal.aborted) {
      if (this.ready && this.pending.size > 0) {
        const batch = this.pending;
        this.pending = new Set();
        this.ready = false;
        return batch;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return undefined;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
  }
}
