#!/usr/bin/env python3
"""notify_listen.py -- a stand-in for systemd's notification socket, for test_supervisor.sh.

    notify_listen.py SOCKET OUT

Binds a Unix datagram socket at SOCKET (the path given to meridiand as NOTIFY_SOCKET), prints
"listening" once bound, then appends every datagram it receives to OUT as one line, its
newline-separated assignments joined with " | " ("READY=1 | STATUS=serving ..."), flushed at once.
Runs until killed.
"""
import os
import socket
import sys


def main():
    path, out = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if os.path.exists(path):
        os.unlink(path)
    s.bind(path)
    print("listening", flush=True)
    with open(out, "a", encoding="utf-8") as f:
        while True:
            data = s.recv(65536).decode("utf-8", "replace")
            f.write(" | ".join(x for x in data.split("\n") if x) + "\n")
            f.flush()


if __name__ == "__main__":
    main()
