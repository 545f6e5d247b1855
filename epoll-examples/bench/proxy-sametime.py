#!/usr/bin/env python3
"""Proxies side by side AT THE SAME TIME: one C loadgen (200 x 8 x 128 B) per proxy, all started together, so every
proxy runs in the same regime (the same CPU contention, the same peers' wake-ups); a busy machine then shifts them
alike. Per proxy over SECS: messages (the bytes its client sockets received, from ss, / 128), CPU µs per message
(/proc/PID/stat, user and system) and the pure ACKs it sent per data segment received on its client sockets.

usage: proxy-sametime.py SECS NAME:PORT:PID [NAME:PORT:PID ...]
The proxies must be running already (pinned to one CPU; the loadgens go on CPU 1), each relaying to the same c-echo,
e.g. for HAProxy and the example on Java 17 (JNA) and 25 (FFM; a jar built by JDK 25):
  taskset -c 1 /tmp/epoll4j-bench/c-echo 29500 &
  taskset -c 0 haproxy -db -f haproxy.cfg &     # mode tcp, nbthread 1, bind :29502, server 127.0.0.1:29500
  taskset -c 0 java -jar epoll-examples/target/epoll-examples.jar proxy --port 29501 --to 127.0.0.1:29500 &
  taskset -c 0 $J25 -Depoll4j.binding=ffm -jar epoll-examples/target/epoll-examples.jar proxy --port 29503 \
      --to 127.0.0.1:29500 &
  epoll-examples/bench/proxy-sametime.py 4 haproxy:29502:$HAPROXY_PID jna:29501:$JNA_PID ffm:29503:$FFM_PID
"""
import os, re, subprocess, sys, time
secs = float(sys.argv[1]); px = [a.split(':') for a in sys.argv[2:]]
lgs = [subprocess.Popen(['taskset', '-c', '1', os.environ.get('BENCH_OUT', '/tmp/epoll4j-bench') + '/loadgen', '127.0.0.1', p, '200', '8', '128',
                         str(int(secs + 7)), '0'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _, p, _ in px]
time.sleep(4)
def snap():
    r = {}
    for name, port, pid in px:
        out = subprocess.run(['ss', '-tinH', 'state', 'established', '( sport = :%s )' % port], capture_output=True, text=True).stdout
        t = dict.fromkeys(('segs_out', 'data_segs_out', 'data_segs_in', 'bytes_received'), 0)
        for k in t:
            t[k] = sum(int(x) for x in re.findall(r'\b' + k + r':(\d+)', out))
        f = open('/proc/%s/stat' % pid).read().rsplit(')', 1)[1].split()
        t['utime'], t['stime'] = int(f[11]), int(f[12])
        r[name] = t
    return r
a = snap(); time.sleep(secs); b = snap()
for l in lgs: l.wait()
for name, _, _ in px:
    d = {k: b[name][k] - a[name][k] for k in a[name]}
    m = d['bytes_received'] / 128
    print("%-10s %7.0f msgs/s  CPU %.3f µs/msg (user %.3f, system %.3f)  pure ACKs/data segment in %.3f" % (
        name, m / secs, (d['utime'] + d['stime']) * 1e4 / m, d['utime'] * 1e4 / m, d['stime'] * 1e4 / m,
        (d['segs_out'] - d['data_segs_out']) / max(d['data_segs_in'], 1)))
