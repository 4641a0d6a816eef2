#!/usr/bin/env python3
# UDP DNS proxy for bench.sh: forwards every query to the upstream and
# counts queries per (name, type), so the bench can measure upstream load.
#   countproxy.py LISTEN_PORT UPSTREAM_PORT COUNTS_FILE
# COUNTS_FILE is rewritten once a second: "total N" then "name type count".
import socket, struct, sys, threading, time, collections

lport, uport, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
counts = collections.Counter()
total = 0
lock = threading.Lock()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", lport))
pending = {}

def qname(msg):
    i, labels = 12, []
    while i < len(msg) and msg[i]:
        n = msg[i]; labels.append(msg[i+1:i+1+n].decode(errors="replace").lower()); i += n + 1
    t = struct.unpack("!H", msg[i+1:i+3])[0] if i + 3 <= len(msg) else 0
    return ".".join(labels) + ".", t

def dump():
    while True:
        time.sleep(1)
        with lock:
            lines = ["total %d" % total] + ["%s %d %d" % (n, t, c) for (n, t), c in counts.items()]
        with open(out + ".tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        import os; os.replace(out + ".tmp", out)

def relay(client, msg):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(3)
    try:
        u.sendto(msg, ("127.0.0.1", uport))
        r, _ = u.recvfrom(65535)
        s.sendto(r, client)
    except OSError:
        pass
    finally:
        u.close()

threading.Thread(target=dump, daemon=True).start()
while True:
    msg, client = s.recvfrom(65535)
    if len(msg) < 17:
        continue
    with lock:
        total += 1
        counts[qname(msg)] += 1
    threading.Thread(target=relay, args=(client, msg), daemon=True).start()
