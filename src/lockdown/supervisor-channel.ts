// The live supervisor's control socket, after the handshake: violation reports arrive as
// JSON lines (published on the same diagnostics_channel as the JS layer's, layer 'kernel'),
// and name hints for '*.domain' rules go out. Unref'd: it never keeps the process alive.

import * as dc from 'node:diagnostics_channel';
import * as net from 'node:net';
import { VIOLATION_CHANNEL } from '../guards/deny';
import { setNameHinter } from '../guards/state';
import { parseReport, type KernelViolation } from './reports';

export { parseReport, type KernelViolation };


const channel = dc.channel(VIOLATION_CHANNEL);
const recent: KernelViolation[] = [];

/** The last reports (at most 100), for tests and `status()`. */
export function supervisorReports(): readonly KernelViolation[] {
  return recent;
}

let live: net.Socket | null = null;
let liveFd = -1;


/**
 * A later lockdown narrows the live supervisor: it adds a layer every call must also pass
 * (the supervisor never removes one). Written synchronously when the socket is writable,
 * as libuv tries the write at once.
 */
export function narrowSupervisor(lines: readonly string[]): boolean {
  if (liveFd < 0) return false;
  channelSocket().write(['narrow-begin', ...lines].join('\n') + '\n');
  return true;
}

/**
 * Takes the control socket over. The net.Socket is made on the first write (a name hint, a
 * narrowing) or on the loop's first turn, whichever comes first, not inside lockdown():
 * a process's first Socket costs ~1 ms, the policy is fully in force without it, and reports
 * that arrive meanwhile wait in the socket buffer. The Immediate is unref'd: a process that
 * exits at once never pays for a reader it would not use.
 */
export function openSupervisorChannel(fd: number): void {
  liveFd = fd;
  setNameHinter((name) => { channelSocket().write(`hint ${name}\n`); });
  setImmediate(channelSocket).unref();
}

function channelSocket(): net.Socket {
  if (live) return live;
  const sock = new net.Socket({ fd: liveFd, readable: true, writable: true });
  live = sock;
  sock.unref();
  sock.setEncoding('utf8');
  let buf = '';
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const v = parseReport(line);
      if (!v) continue;
      recent.push(v);
      if (recent.length > 100) recent.shift();
      if (channel.hasSubscribers) channel.publish({ ...v, stack: undefined });
    }
    if (buf.length > 65536) buf = '';
  });
  // The supervisor exits only when no filtered task is left; an error here means it died,
  // and every trapped call already fails closed (ENOSYS).
  sock.on('error', () => {});
  return sock;
}
