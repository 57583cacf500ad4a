// The supervisor's violation reports (native/supervisor/handle.cc Report), parsed: shared by
// the in-process channel and `blackbox run`, which must not load the JS guards to read them.

export interface KernelViolation {
  permission: 'Net';
  resource: string;
  layer: 'kernel';
  operation: string;
  syscall: string;
  proto: string;
  pid: number;
  tid: number;
  errno: number;
  audit: boolean;
}

/** One JSON report line of the supervisor (handle.cc Report), or null for anything else. */
export function parseReport(line: string): KernelViolation | null {
  let r: { type?: string; syscall?: string; op?: string; proto?: string; resource?: string; pid?: number; tid?: number; errno?: number; audit?: boolean };
  try { r = JSON.parse(line); } catch { return null; }
  if (!r || typeof r !== 'object' || r.type !== 'violation') return null;
  return {
    permission: 'Net',
    resource: String(r.resource ?? ''),
    layer: 'kernel',
    operation: r.op === 'bind' ? 'listen' : 'connect',
    syscall: String(r.syscall ?? ''),
    proto: String(r.proto ?? ''),
    pid: Number(r.pid),
    tid: Number(r.tid),
    errno: Number(r.errno),
    audit: r.audit === true,
  };
}
