"""TCP connections per second through a published port, with 1 and with 100 networks (each
with an endpoint that publishes a port), on the nftables and the iptables backend.

    python3 benchmarks/firewall_scale.py [--networks N] [--rounds R] [--seconds S]   (as root; make bench-firewall)

The measured endpoint sits in the last network, so a backend whose per-packet work grows with
the rules (iptables walks its DNAT chain) pays for every network before it; nftables looks the
port up in one map. A client in a remote namespace opens, reads and closes connections for S
seconds; each figure is the median of R interleaved rounds, in one virtual host, and the ratios
are what to read (the machine is shared).
"""

import argparse
import os
import signal
import statistics
import tempfile
import time

from virtual_hosts import Runner, VirtualHost, collections_path

PYTHON = '/usr/bin/python3'
HOST_IP, REMOTE_IP = '203.0.113.254', '203.0.113.1'
SERVER = ("import socket\ns = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
          "s.bind(('0.0.0.0', 80)); s.listen(512)\nwhile True:\n    c, _ = s.accept(); c.sendall(b'hi'); c.close()\n")
CLIENT = ("import socket, sys, time\nend, n = time.monotonic() + %f, 0\nwhile time.monotonic() < end:\n"
          "    c = socket.create_connection(('%s', 8080), timeout=2); c.recv(2); c.close(); n += 1\n"
          "print(n)\n")


def task(module, **args):
    return {'name': module, 'netplumb.container.' + module: args}


def topology(backend, count):
    networks = [{'name': 'n%d' % i, 'subnet': '10.100.%d.0/24' % i} for i in range(count)]
    endpoints = [{'name': 'ep%d' % i, 'networks': ['n%d' % i], 'published': ['%d:80' % (10000 + i)]}
                 for i in range(count - 1)]
    endpoints.append({'name': 'web', 'networks': ['n%d' % (count - 1)], 'published': ['8080:80']})
    return task('topology', backend=backend, networks=networks, endpoints=endpoints)


def rate(host, play, backend, count, seconds):
    play([topology(backend, count)], diff=False, expect_rc=0)
    server = host.spawn(['ip', 'netns', 'exec', 'web', 'python3', '-c', SERVER])
    try:
        time.sleep(0.5)
        out = host.run(['ip', 'netns', 'exec', 'world', 'python3', '-c', CLIENT % (seconds, HOST_IP)]).stdout
        return int(out) / seconds
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        play([task('topology', backend=backend, networks=[], endpoints=[])], diff=False, expect_rc=0)
        # the kernel frees deleted namespaces later, in a work queue: let it finish before the next figure
        time.sleep(2 + count * 0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--networks', type=int, default=100)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--seconds', type=float, default=3.0)
    args = parser.parse_args()
    configs = [(backend, count) for count in (1, args.networks) for backend in ('nftables', 'iptables')]
    figures = dict((config, []) for config in configs)
    host = VirtualHost.create('np-bench-fw-%d' % os.getpid())
    try:
        play = Runner(host, tempfile.mkdtemp(prefix='np-bench-'), collections_path(), PYTHON)
        play([task('netns', name='world'),
              task('veth', name='uplink', addresses=[HOST_IP + '/24'], peer='eth0', peer_namespace='world',
                   peer_addresses=[REMOTE_IP + '/24'])], diff=False, expect_rc=0)
        for _round in range(args.rounds):
            for backend, count in configs:
                figures[(backend, count)].append(rate(host, play, backend, count, args.seconds))
    finally:
        host.destroy()
    median = dict((config, statistics.median(values)) for config, values in figures.items())
    print('TCP connections/s through a published port (median of %d rounds of %.0f s):' % (args.rounds, args.seconds))
    for backend in ('nftables', 'iptables'):
        one, many = median[(backend, 1)], median[(backend, args.networks)]
        print('  %-9s  1 network: %7.0f   %d networks: %7.0f   ratio %d/1: %.2f   (rounds: %s / %s)'
              % (backend, one, args.networks, many, args.networks, many / one,
                 ' '.join('%.0f' % v for v in figures[(backend, 1)]),
                 ' '.join('%.0f' % v for v in figures[(backend, args.networks)])))
    print('  nftables/iptables at %d networks: %.2f' % (
        args.networks, median[('nftables', args.networks)] / median[('iptables', args.networks)]))


if __name__ == '__main__':
    main()
