#!/usr/bin/env python3
"""burst.py -- DNS queries over UDP one at a time, then all at once (tests/integration/test_udp_batch.sh).

    burst.py PORT QUERIES_FILE [TRUNCATED]

QUERIES_FILE has one query per line: NAME TYPE [edns=PAYLOAD] [do] [ecs] [case] (ecs: a client subnet
option for 198.51.100.0/24, with edns). Each query is first sent
alone and its reply awaited; then every query is sent again in one burst, without waiting, so that
the server receives many in one recvmmsg, and the replies are collected. TRUNCATED extra datagrams
of 5,000 octets (larger than the server's receive buffer) are mixed into the burst. Prints one
line per query whose burst reply differs from its reply alone (or is missing), then a last line
"N queries, N same, N differ, N missing". Exit 0 when all are the same.
"""
import socket
import struct
import sys
import time


def qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "DS": 43, "ANY": 255}


def query(qid, line):
    parts = line.split()
    name, qtype = parts[0], TYPES[parts[1]]
    opts = parts[2:]
    if "case" in opts:
        name = "".join(c.upper() if i % 2 else c for i, c in enumerate(name))
    edns = [o for o in opts if o.startswith("edns=")]
    arcount = 1 if edns else 0
    msg = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, arcount) + qname(name) + struct.pack("!HH", qtype, 1)
    if edns:
        payload = int(edns[0][5:])
        flags = 0x8000 if "do" in opts else 0
        option = struct.pack("!HHHBB", 8, 7, 1, 24, 0) + bytes([198, 51, 100]) if "ecs" in opts else b""
        msg += b"\0" + struct.pack("!HHIH", 41, payload, flags, len(option)) + option
    return msg


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    truncated = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    lines = [l for l in open(path).read().splitlines() if l.strip() and not l.startswith("#")]
    queries = [query(i + 1, l) for i, l in enumerate(lines)]
    server = ("127.0.0.1", port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.settimeout(2)
    alone = {}
    for q in queries:
        s.sendto(q, server)
        while True:
            r = s.recv(65535)
            if r[:2] == q[:2]:
                alone[q[:2]] = r
                break
    burst = list(queries)
    for i in range(truncated):
        burst.insert(i * len(queries) // max(truncated, 1), b"\xff\xff" + b"\0" * 4998)
    for q in burst:
        s.sendto(q, server)
    got = {}
    deadline = time.time() + 5
    while len(got) < len(queries) and time.time() < deadline:
        try:
            r = s.recv(65535)
        except socket.timeout:
            break
        got[r[:2]] = r
    same = differ = missing = 0
    for line, q in zip(lines, queries):
        if q[:2] not in got:
            missing += 1
            print(f"missing: {line}")
        elif got[q[:2]] != alone[q[:2]]:
            differ += 1
            print(f"differs: {line}")
        else:
            same += 1
    print(f"{len(queries)} queries, {same} same, {differ} differ, {missing} missing")
    return 0 if same == len(queries) else 1


if __name__ == "__main__":
    sys.exit(main())
