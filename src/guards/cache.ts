// A bounded cache of ALLOWED fs decisions, so a guarded call on a path it has
// already let through does not walk the path again (realpath is a syscall per
// component; it was ~1.5 µs of a ~2 µs readFileSync under a read list).
//
// Why this is safe enough, and where it stops:
// - Only allows are stored. A denial is always recomputed, so nothing here can
//   turn a denial into an allow by itself; what can go stale is an allow whose
//   path has since been re-pointed (a symlink swapped in).
// - One cache per Effective (state.ts makes a new Effective on every policy
//   change), keyed by the absolute path string and by the kind of check
//   (read/write, follow, template): a different policy or spelling misses.
// - Every guarded call that changes what a path resolves to (rename, link,
//   symlink, unlink, rm, rmdir, mkdir, mkdtemp, cp) empties every cache when it
//   starts and again when it ends, and while one is in flight (an async call
//   on the threadpool) nothing is served or stored: the pool may already have
//   done it before JS hears back.
// - Changes this thread does not see (another thread or process, a raw
//   binding) can leave a stale allow. Under lockdown the kernel layer
//   (Landlock) is the boundary and answers those calls, and fs.ts turns its
//   EACCES into a PolicyViolation (layer 'kernel') with an uncached re-check.
//   guard() alone is documented as no security boundary.

/** The most paths remembered per cache; past it the oldest entry is dropped. */
export const ALLOW_CACHE_MAX = 512;

// Global, not per cache: a change that started under one Effective and ends
// under another must still empty (and pause) the cache of the new one.
let generation = 0;
let inflight = 0;

/**
 * A guarded call is about to change the namespace: empties every cache and
 * pauses them until the returned function is called (idempotent; call it when
 * the operation has finished, successfully or not).
 */
export function beginNamespaceChange(): () => void {
  generation++;
  inflight++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    inflight--;
    generation++;
  };
}

/** absolute path → bitmask of the check kinds (`slot` bits) known to be allowed. */
export class AllowCache {
  private readonly map = new Map<string, number>();
  private gen = generation;

  constructor(private readonly max: number = ALLOW_CACHE_MAX) {}

  /** Empties itself after a namespace change; false while one is in flight. */
  private usable(): boolean {
    if (this.gen !== generation) {
      this.map.clear();
      this.gen = generation;
    }
    return inflight === 0;
  }

  has(key: string, bit: number): boolean {
    if (!this.usable()) return false;
    const v = this.map.get(key);
    return v !== undefined && (v & bit) !== 0;
  }

  add(key: string, bit: number): void {
    if (!this.usable()) return;
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.set(key, v | bit);
      return;
    }
    // a Map iterates in insertion order: the first key is the oldest
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, bit);
  }

  get size(): number {
    return this.map.size;
  }
}
