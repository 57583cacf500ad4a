'use strict';
// npm's install step, after node-gyp-build: writes dist/bundle.cache (the V8 code cache of
// dist/bundle.js, src/loader.ts) for the Node that installs the package, which is usually the
// Node that runs it. Never fails the install: without a usable cache the package only starts
// slower. In a fresh clone dist/ does not exist yet; `prepare` (tsc + scripts/bundle.js) then
// writes the cache itself.
const fs = require('node:fs');
const path = require('node:path');

const loader = path.join(__dirname, '..', 'dist', 'loader.js');
try {
  if (fs.existsSync(path.join(__dirname, '..', 'dist', 'bundle.js'))) require(loader).writeCache();
} catch (e) {
  process.stderr.write(`blackbox-native: no code cache written (${e && e.message}); start-up is slower, nothing else changes\n`);
}
