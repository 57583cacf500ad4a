// Installs every guard once. Each module patches its Node module and consults
// effective() per call, so guard() and lockdown() share one set of patches.

import { install as installNet } from './net';
import { install as installDns } from './dns';
import { install as installDgram } from './dgram';
import { install as installHttp2 } from './http2';
import { install as installFs } from './fs';
import { install as installChildProcess } from './child-process';
import { install as installWorkers } from './workers';
import { install as installAddons } from './addons';

import { syncBuiltinESMExports } from 'node:module';

let installed = false;

export function installGuards(): void {
  if (installed) return;
  installed = true;
  installNet();
  installDns();
  installDgram();
  installHttp2();
  installFs();
  installChildProcess();
  installWorkers();
  installAddons();
  // `import { writeFileSync } from 'node:fs'` reads the ESM mirror of each
  // builtin: refresh it once, after every patch (it walks all builtins).
  syncBuiltinESMExports();
}
