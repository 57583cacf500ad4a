'use strict';
// The fs guards' cache of allowed decisions (src/guards/cache.ts): keyed by path and check
// slot, bounded, emptied and paused by namespace changes. Pure: nothing is patched here; the
// guards' use of it is judged in test/kernel/guards-fs-cache.test.js.
const test = require('node:test');
const assert = require('node:assert/strict');

const { AllowCache, ALLOW_CACHE_MAX, beginNamespaceChange } = require('../../dist/guards/cache');

test('AllowCache: a hit needs the same path string and the same slot bit', () => {
  const c = new AllowCache();
  assert.equal(c.has('/a/f', 1), false);
  c.add('/a/f', 1);
  assert.equal(c.has('/a/f', 1), true);
  assert.equal(c.has('/a/f', 2), false, 'another kind of check (e.g. write) is not implied');
  assert.equal(c.has('/a/f/', 1), false, 'another spelling is another key');
  assert.equal(c.has('/a', 1), false);
  c.add('/a/f', 4);
  assert.equal(c.has('/a/f', 1), true, 'adding a slot keeps the others');
  assert.equal(c.has('/a/f', 4), true);
  assert.equal(c.size, 1);
});

test('AllowCache: bounded, the oldest path is dropped first', () => {
  assert.ok(ALLOW_CACHE_MAX >= 100 && ALLOW_CACHE_MAX <= 4096, `a few hundred entries, not ${ALLOW_CACHE_MAX}`);
  const c = new AllowCache(3);
  c.add('/1', 1);
  c.add('/2', 1);
  c.add('/3', 1);
  c.add('/2', 2); // an existing key does not count again
  assert.equal(c.size, 3);
  c.add('/4', 1);
  assert.equal(c.size, 3);
  assert.equal(c.has('/1', 1), false, 'the oldest went');
  assert.deepEqual(['/2', '/3', '/4'].map((k) => c.has(k, 1)), [true, true, true]);
  const big = new AllowCache();
  for (let i = 0; i < ALLOW_CACHE_MAX * 3; i++) big.add(`/p${i}`, 1);
  assert.equal(big.size, ALLOW_CACHE_MAX);
  assert.equal(big.has(`/p${ALLOW_CACHE_MAX * 3 - 1}`, 1), true);
  assert.equal(big.has('/p0', 1), false);
});

test('AllowCache: a namespace change empties every cache and pauses them until it ends', () => {
  const a = new AllowCache();
  const b = new AllowCache();
  a.add('/x', 1);
  b.add('/y', 1);
  const end = beginNamespaceChange();
  assert.equal(a.has('/x', 1), false);
  a.add('/z', 1); // while the change is in flight nothing is stored
  assert.equal(a.has('/z', 1), false);
  const end2 = beginNamespaceChange(); // two at once: paused until both end
  end();
  end(); // idempotent: a second call does not end the other change
  assert.equal(a.has('/z', 1), false);
  a.add('/z', 1);
  assert.equal(a.has('/z', 1), false, 'still paused: one change is in flight');
  end2();
  assert.equal(b.has('/y', 1), false, 'emptied, not only paused');
  assert.equal(a.has('/z', 1), false);
  a.add('/z', 1);
  assert.equal(a.has('/z', 1), true, 'usable again once every change ended');
  assert.equal(a.size, 1);
});
