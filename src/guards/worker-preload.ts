// Run by `--require` in every Worker created after a lockdown (see workers.ts),
// before the worker's own first line: install the JS guards with the parent's
// lockdown layer. No kernel calls: the thread inherited the kernel layer from
// the thread that created it.

import { getEnvironmentData, isMainThread } from 'node:worker_threads';
import { installGuards } from './install';
import { setLockdownLayer } from './state';
import { LAYER_KEY, type WorkerHandoff } from './workers';

if (!isMainThread) {
  const handoff = getEnvironmentData(LAYER_KEY) as WorkerHandoff | undefined;
  if (handoff && typeof handoff === 'object' && handoff.layer && handoff.layer.policy) {
    setLockdownLayer(handoff.layer);
    installGuards();
    // process.execArgv shows what Node would have shown (not our --require)
    if (Array.isArray(handoff.execArgv)) process.execArgv.splice(0, process.execArgv.length, ...handoff.execArgv);
  }
}
