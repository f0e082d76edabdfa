"""The networks' name server, measured from an endpoint as its processes use it: lookups per
second (dnsperf, 100 queries in flight, 3 s) and the latency of one query at a time (p50/p99 of
2000) for a name on the network, an alias of two endpoints and an external name (forwarded to the
host's upstream, a stub on its loopback as systemd-resolved's; unbound caches it, Docker does
not), at 10 and 1000 endpoints; the floor is the same unbound, same configuration and view, asked
from the host's loopback. Then how long after the topology module returns a new endpoint's name
answers (a reload). Every figure of a line comes from the same run; compare them as ratios.

    python3 benchmarks/dns_names.py [--endpoints 10 1000]    (as root; make bench-dns)
"""

import argparse
import ipaddress
import json
import os
import re
import sys
import tempfile
import time

from virtual_hosts import Runner, VirtualHost, collections_path
from upstream import start_upstream  # tests/lib, on the path virtual_hosts sets

GATEWAY = '10.88.0.1'
QUERIES = {'name': 'ep5', 'alias': 'web', 'external': 'outside.example'}
FLOOR_PORT = 5354

# One query at a time from inside the endpoint's namespace: p50 and p99 of N, in ms.
SEQUENTIAL = r'''
import socket, struct, sys, time
server, port, name, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
question = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0\0\1\0\1"
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(2)
took = []
for i in range(count):
    query = struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + question
    start = time.perf_counter()
    sock.sendto(query, (server, port))
    while struct.unpack(">H", sock.recv(512)[:2])[0] != i & 0xffff:
        pass
    took.append(time.perf_counter() - start)
took.sort()
print("%.3f %.3f" % (took[len(took) // 2] * 1000, took[int(len(took) * 0.99)] * 1000))
'''
# Until ``name`` answers from inside the endpoint's namespace: seconds since the time given.
UNTIL = r'''
import socket, struct, sys, time
server, name, since = sys.argv[1], sys.argv[2], float(sys.argv[3])
question = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0\0\1\0\1"
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(0.05)
while time.time() - since < 10:
    sock.sendto(struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + question, (server, 53))
    try:
        reply = sock.recv(512)
    except OSError:
        continue
    if struct.unpack(">H", reply[6:8])[0] > 0:
        print("%.4f" % (time.time() - since))
        break
    time.sleep(0.001)
'''


def endpoint_address(i):
    return str(ipaddress.ip_address(GATEWAY) + 1 + i)


def declarations(count, extra=()):
    endpoints = [{'name': 'ep%d' % i, 'networks': [{'name': 'bench', 'address': endpoint_address(i),
                                                    'aliases': ['web'] if i in (1, 2) else []}]}
                 for i in range(count)]
    return {'networks': [{'name': 'bench', 'subnet': '10.88.0.0/20', 'bridge': 'npbench'}],
            'endpoints': endpoints + list(extra)}


def dnsperf(host, prefix, server, port, name, work):
    path = os.path.join(work, 'queries-%s' % name)
    with open(path, 'w') as handle:
        handle.write('%s A\n' % name)
    out = host.run(prefix + ['dnsperf', '-s', server, '-p', str(port), '-d', path, '-l', '3', '-q', '100', '-c', '1'],
                   check=False).stdout
    found = re.search(r'Queries per second:\s+([\d.]+)', out)
    lost = re.search(r'Queries lost:\s+(\d+)', out)
    if not found:
        sys.exit('dnsperf gave no figure:\n' + out[-2000:])
    return float(found.group(1)), int(lost.group(1)) if lost else 0


def sequential(host, prefix, server, port, name):
    out = host.run(prefix + [sys.executable, '-c', SEQUENTIAL, server, str(port), name, '2000']).stdout.split()
    return float(out[0]), float(out[1])


def floor_server(host, work, config):
    """The same configuration on the host's loopback, with the endpoint ep0's view for 127.0.0.1."""
    view = re.search(r'access-control-view: %s/32 (\S+)' % re.escape(endpoint_address(0)), config).group(1)
    replaced = ('  interface: ', '  pidfile: ', '  do-daemonize: ')
    lines = [line for line in config.splitlines() if not line.startswith(replaced)]
    at = lines.index('server:') + 1
    lines[at:at] = ['  interface: 127.0.0.1@%d' % FLOOR_PORT, '  pidfile: ""', '  do-daemonize: no',
                    '  access-control: 127.0.0.1/32 allow', '  access-control-view: 127.0.0.1/32 %s' % view]
    path = os.path.join(work, 'floor.conf')
    with open(path, 'w') as handle:
        handle.write('\n'.join(lines) + '\n')
    proc = host.spawn(['unbound', '-c', path])
    deadline = time.time() + 10
    while time.time() < deadline:
        if host.run(['dig', '+short', '+time=1', '+tries=1', '-p', str(FLOOR_PORT), '@127.0.0.1', 'ep5'],
                    check=False).stdout.strip():
            return proc
        time.sleep(0.1)
    sys.exit('the floor server did not start')


def measure(count, python):
    work = tempfile.mkdtemp(prefix='np-bench-dns-')
    host = VirtualHost.create('np-bench-dns-%d' % os.getpid())
    try:
        start_upstream(host, work)
        play = Runner(host, work, collections_path(), python)

        def topology(params):
            task = {'name': 'topology', 'netplumb.container.topology': params}
            play([task], diff=False, expect_rc=0, record=False)
            return time.time()
        topology(declarations(count))
        config = host.run(['cat', '/var/lib/netplumb/dns/unbound.conf']).stdout
        floor_server(host, work, config)
        inside = ['ip', 'netns', 'exec', 'ep0']
        rows = []
        for kind, name in sorted(QUERIES.items()):
            dnsperf(host, inside, GATEWAY, 53, name, work)      # warm: the external name is cached after one
            qps, lost = dnsperf(host, inside, GATEWAY, 53, name, work)
            floor_qps, _lost = dnsperf(host, [], '127.0.0.1', FLOOR_PORT, name, work)
            p50, p99 = sequential(host, inside, GATEWAY, 53, name)
            floor_p50, floor_p99 = sequential(host, [], '127.0.0.1', FLOOR_PORT, name)
            rows.append((kind, qps, lost, floor_qps, p50, p99, floor_p50, floor_p99))
        late = {'name': 'late', 'networks': [{'name': 'bench', 'address': endpoint_address(count + 5)}]}
        returned = topology(declarations(count, [late]))
        visible = float(host.run(inside + [sys.executable, '-c', UNTIL, GATEWAY, 'late', repr(returned)]).stdout)
        topology({'networks': [], 'endpoints': []})
        return rows, visible
    finally:
        host.destroy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--endpoints', type=int, nargs='+', default=[10, 1000])
    parser.add_argument('--python', default=sys.executable, help='the interpreter the module runs with')
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit('run as root: the benchmark makes a virtual host')
    print('%-6s %-9s %10s %6s %10s %6s %8s %8s %8s %8s %6s' % (
        'n', 'query', 'q/s', 'lost', 'floor q/s', 'ratio', 'p50 ms', 'p99 ms', 'floor50', 'floor99', 'ratio'))
    for count in args.endpoints:
        rows, visible = measure(count, args.python)
        for kind, qps, lost, floor_qps, p50, p99, floor_p50, floor_p99 in rows:
            print('%-6d %-9s %10.0f %6d %10.0f %6.2f %8.3f %8.3f %8.3f %8.3f %6.2f' % (
                count, kind, qps, lost, floor_qps, qps / floor_qps, p50, p99, floor_p50, floor_p99, p50 / floor_p50))
        print('%-6d a new endpoint\'s name answers %.1f ms after the topology module returned' % (count, visible * 1000))
    print(json.dumps({'note': 'q/s at 100 in flight; p50/p99 one query at a time; ratio = endpoint / floor'}))


if __name__ == '__main__':
    main()
