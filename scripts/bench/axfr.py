#!/usr/bin/env python3
"""axfr.py -- one AXFR for scripts/bench.sh: ADDR PORT ZONE RECORDS.

Sends an AXFR for ZONE over TCP and reads the framed replies until RECORDS + 1 records (the zone's,
with its SOA once more at the end) have come, counting each message's ANCOUNT from its header
only, so the client costs little beside the server. Prints "records messages seconds" (seconds from
the request to the last byte), or a line starting with "error" and exits 1.
"""
import socket
import struct
import sys
import time


def request(zone):
    name = b"".join(bytes([len(label)]) + label.encode() for label in zone.strip(".").split(".")) + b"\0"
    msg = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0) + name + struct.pack(">HH", 252, 1)
    return struct.pack(">H", len(msg)) + msg


def main():
    addr, port, zone, expected = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]) + 1
    sock = socket.create_connection((addr, port), timeout=120)
    start = time.monotonic()
    sock.sendall(request(zone))
    buf = bytearray()
    pos = records = messages = 0
    while records < expected:
        chunk = sock.recv(1 << 20)
        if not chunk:
            print(f"error: the server closed after {records} records in {messages} messages")
            return 1
        buf += chunk
        while len(buf) - pos >= 2:
            size = buf[pos] << 8 | buf[pos + 1]
            if len(buf) - pos < 2 + size:
                break
            header = buf[pos + 2:pos + 14]
            if len(header) < 12 or header[0:2] != b"\x42\x42" or header[3] & 0x0F:
                print(f"error: message {messages + 1} is not a NOERROR answer to the request")
                return 1
            records += header[6] << 8 | header[7]
            messages += 1
            pos += 2 + size
        del buf[:pos]
        pos = 0
    elapsed = time.monotonic() - start
    sock.close()
    print(f"{records} {messages} {elapsed:.3f}")
    return 0 if records == expected else 1


if __name__ == "__main__":
    sys.exit(main())
