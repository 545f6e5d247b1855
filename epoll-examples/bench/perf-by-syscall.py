#!/usr/bin/env python3
"""Splits a `perf record -g` profile of one process by where the time went: user space by object (JIT code, JNA's
stub, libc, the program) and kernel time by the system call it served (send, read/recv, epoll_wait, futex, other),
in µs per message.

usage: perf-by-syscall.py PERF_DATA MESSAGES [HZ]
  PERF_DATA  from: perf record -F 2999 -e cpu-clock -g -p PID -o PERF_DATA -- sleep 5
             (a JVM: jcmd PID Compiler.perfmap before it exits, so that JIT frames have names)
  MESSAGES   messages through the process in that window (e.g. the bytes its client sockets received, from
             `ss -tin`, over the message size)
  HZ         the sampling frequency given to perf record (default 2999)
"""
import collections
import re
import subprocess
import sys

RULES = [('send', ('__sys_sendto', 'tcp_sendmsg')),
         ('read/recv', ('vfs_read', 'ksys_read', 'sock_read_iter', '__sys_recvfrom', 'tcp_recvmsg', 'sock_recvmsg')),
         ('epoll_wait', ('do_epoll_wait', 'ep_poll', '__x64_sys_epoll')),
         ('futex', ('futex',))]
# within read/recv: the share spent sending an ACK from the read (tcp_cleanup_rbuf -> tcp_send_ack)
ACK = ('__tcp_transmit_skb',)


def main():
    data, msgs = sys.argv[1], float(sys.argv[2])
    hz = float(sys.argv[3]) if len(sys.argv) > 3 else 2999.0
    out = subprocess.run(['perf', 'script', '-i', data, '-F', 'ip,sym,dso'], capture_output=True, text=True).stdout
    cats = collections.Counter()
    stack = []

    def flush():
        if not stack:
            return
        top_dso = stack[0][1]
        if '[kernel' not in top_dso:
            what = ('JIT-compiled Java' if 'perf-' in top_dso else 'JNA stub' if 'jna' in top_dso
                    else top_dso.rsplit('/', 1)[-1])
            cats['user: ' + what] += 1
        else:
            syms = [s for s, _ in stack]
            for cat, keys in RULES:
                if any(k in s for s in syms for k in keys):
                    cats['kernel: ' + cat] += 1
                    if cat == 'read/recv' and any(s in ACK for s in syms):
                        cats['kernel: read/recv, of which sending an ACK'] += 1
                    break
            else:
                cats['kernel: other'] += 1
        stack.clear()

    for line in out.splitlines():
        if not line.strip():
            flush()
            continue
        m = re.match(r'\s*([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$', line)
        if m:
            stack.append((m.group(2).split('+')[0], m.group(3)))
    flush()
    total = sum(v for k, v in cats.items() if 'of which' not in k)
    for k in sorted(cats):
        print('%8.3f µs/msg  %s' % (cats[k] / hz * 1e6 / msgs, k))
    print('%8.3f µs/msg  total (%d samples)' % (total / hz * 1e6 / msgs, total))


if __name__ == '__main__':
    main()
