"""Tiny TCP peers for the NAT tests (run inside namespaces with `ip netns exec`).

  python3 tcp.py serve PORT LOG   accept forever; append each peer's address to LOG
  python3 tcp.py connect IP PORT [SECONDS]  exit 0 when a connection is accepted and greeted in time (3 s)
"""

import socket
import sys


def serve(port, log):
    """Both families on one socket; an IPv4 peer is logged as 10.0.0.2, not ::ffff:10.0.0.2."""
    server = socket.socket(socket.AF_INET6)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    server.bind(('::', port))
    server.listen(16)
    while True:
        conn, peer = server.accept()
        with open(log, 'a') as handle:
            handle.write(peer[0].replace('::ffff:', '', 1) + '\n')
        conn.sendall(b'hello\n')
        conn.close()


def connect(ip, port, timeout=3.0):
    try:
        with socket.create_connection((ip, port), timeout=timeout) as conn:
            return 0 if conn.recv(16) == b'hello\n' else 1
    except OSError:
        return 1


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve(int(sys.argv[2]), sys.argv[3])
    sys.exit(connect(sys.argv[2], int(sys.argv[3]), *[float(a) for a in sys.argv[4:5]]))
