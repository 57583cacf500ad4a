// Side-effect entry: no network but loopback for the rest of this process's JS.
// BLACKBOX_TEST_ALLOW=host1,host2 adds destinations.
import { blockNetwork } from './testing';

const extra = (process.env.BLACKBOX_TEST_ALLOW ?? '').split(',').map((s) => s.trim()).filter(Boolean);
blockNetwork({ allow: extra });
