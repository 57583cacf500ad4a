// ESM entry: the same module instance as require('blackbox-native'), so a
// lockdown made through one is seen by the other.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const cjs = require('../dist/index.js');
export const { lockdown, guard, status, has, PolicyViolation, VIOLATION_CHANNEL } = cjs;
export default cjs;
