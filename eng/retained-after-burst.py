#!/usr/bin/env python3
# Memory a server keeps after a burst of connections has closed: starts `Proactor.Bench serve` (default
# engine), opens N connections at once, echoes one byte through each, closes them all, asks the
# server for a full collection (`collect` on its stdin) and prints the RSS growth per closed connection
# over a 64-connection warm-up.
# usage: ulimit -n 20000; python3 eng/retained-after-burst.py Proactor.Bench/bin/Release/net10.0/Proactor.Bench.dll 9000
import socket, sys, subprocess, time, os, re
dll = sys.argv[1]; n = int(sys.argv[2])
p = subprocess.Popen(["dotnet", dll, "serve", "--port", "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
port = None
while port is None:
    line = p.stdout.readline()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if m: port = int(m.group(1))
def rss():
    for l in open(f"/proc/{p.pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) * 1024
def collect():
    p.stdin.write("collect\n"); p.stdin.flush(); time.sleep(1.5)
def burst(k):
    socks = []
    for i in range(k):
        s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"x"); s.recv(1); socks.append(s)
    for s in socks: s.close()
    time.sleep(1)
burst(64); collect(); r0 = rss()
burst(n); collect(); r1 = rss()
print(f"after {n} opened (all at once) and closed: {(r1 - r0) / n:.0f} B retained per closed connection (RSS {r0>>20} -> {r1>>20} MiB)")
p.terminate()
