"""One host, one bridge network, N endpoints (default 200): how our role compares with the floor
(ip -batch), the industry reference (CNI bridge + host-local plugins, one ADD per container) and
Ansible's own fixed cost. Every figure is measured in this run, each in a fresh virtual host;
ratios are what to read (the machine is shared, absolute times drift).

    python3 benchmarks/bridge_scale.py [--endpoints N] [--rounds R]   (as root; make bench-bridge)

Each figure is the median of R rounds, the rounds interleaved so that a busy spell of the
machine hits every variant alike.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from virtual_hosts import Runner, VirtualHost, collections_path

CNI_DIR = '/usr/lib/cni'
SUBNET = '10.88.0.0/16'
PYTHON = '/usr/bin/python3'      # the managed host's Python, as on a real Debian host


def timed(action):
    start = time.monotonic()
    action()
    return time.monotonic() - start


def in_host(action):
    host = VirtualHost.create('np-bench-%d' % os.getpid())
    try:
        return action(host)
    finally:
        host.destroy()


def ip_batch(count):
    """(a) The same kernel objects with iproute2's batch mode: one batch for the host side,
    one per namespace for the inside (ip -batch has no per-line namespace switch)."""
    def run(host):
        work = tempfile.mkdtemp(prefix='np-bench-')
        outer = ['link add br0 type bridge', 'addr add 10.88.0.1/16 dev br0', 'link set br0 up']
        inner = []
        for i in range(count):
            ip = '10.88.%d.%d' % ((i + 2) // 256, (i + 2) % 256)
            outer += ['netns add ep%d' % i,
                      'link add np%d type veth peer name eth0 netns ep%d' % (i, i),
                      'link set np%d master br0 up' % i]
            path = os.path.join(work, 'ep%d' % i)
            with open(path, 'w') as handle:
                handle.write('link set lo up\naddr add %s/16 dev eth0\nlink set eth0 up\n'
                             'route add default via 10.88.0.1\n' % ip)
            inner.append(path)
        with open(os.path.join(work, 'outer'), 'w') as handle:
            handle.write('\n'.join(outer) + '\n')
        script = 'ip -batch %s/outer && for i in $(seq 0 %d); do ip -n ep$i -batch %s/ep$i || exit 1; done' % (
            work, count - 1, work)
        seconds = timed(lambda: host.run(['sh', '-c', script]))
        check(host, count)
        return seconds
    return in_host(run)


def cni(count):
    """(b) The CNI reference plugins as a runtime calls them: per container, a namespace and
    one ADD of bridge + host-local (ipMasq off, leases kept inside the virtual host)."""
    conf = json.dumps({'cniVersion': '1.0.0', 'name': 'bench', 'type': 'bridge', 'bridge': 'cni0',
                       'isGateway': True, 'ipMasq': False,
                       'ipam': {'type': 'host-local', 'subnet': SUBNET, 'dataDir': '/var/lib/netplumb/cni',
                                'routes': [{'dst': '0.0.0.0/0'}]}})

    def run(host):
        work = tempfile.mkdtemp(prefix='np-bench-')
        with open(os.path.join(work, 'conf.json'), 'w') as handle:
            handle.write(conf)
        script = ('for i in $(seq 0 %d); do ip netns add ep$i && CNI_COMMAND=ADD CNI_CONTAINERID=c$i '
                  'CNI_NETNS=/run/netns/ep$i CNI_IFNAME=eth0 CNI_PATH=%s %s/bridge < %s/conf.json >/dev/null '
                  '|| exit 1; done' % (count - 1, CNI_DIR, CNI_DIR, work))
        seconds = timed(lambda: host.run(['sh', '-c', script]))
        check(host, count)
        return seconds
    return in_host(run)


def check(host, count):
    """Every variant must have built the same thing: N namespaces, each reaching the gateway."""
    names = host.run(['ip', 'netns', 'list']).stdout.split('\n')
    assert len([n for n in names if n.strip()]) == count, 'expected %d namespaces' % count
    for i in (0, count - 1):
        host.run(['ip', 'netns', 'exec', 'ep%d' % i, 'ping', '-c', '1', '-W', '2', '10.88.0.1'])


def ours(count):
    """(c) the role through ansible-playbook, (d) the same again (nothing to change),
    (e) a one-task playbook: Ansible's fixed cost on this host."""
    work = tempfile.mkdtemp(prefix='np-bench-')
    playbook = os.path.join(work, 'site.yml')
    with open(playbook, 'w') as handle:
        json.dump([{'name': 'bench', 'hosts': 'localhost', 'gather_facts': False,
                    'roles': [{'role': 'netplumb.container.network'}]}], handle)
    ping = os.path.join(work, 'ping.yml')
    with open(ping, 'w') as handle:
        json.dump([{'name': 'fixed cost', 'hosts': 'localhost', 'gather_facts': False,
                    'tasks': [{'ansible.builtin.ping': {}}]}], handle)
    declarations = {'netplumb_networks': [{'name': 'bench', 'subnet': SUBNET, 'bridge': 'br0', 'masquerade': False}],
                    'netplumb_endpoints': [{'name': 'ep%d' % i, 'networks': ['bench']} for i in range(count)]}

    def run(host):
        play = Runner(host, work, collections_path(), PYTHON)
        one = timed(lambda: play(None, playbook=ping, diff=False, expect_rc=0))
        first = timed(lambda: play(None, playbook=playbook, diff=False, expect_rc=0, extra_vars=declarations))
        check(host, count)
        again = timed(lambda: play(None, playbook=playbook, diff=False, expect_rc=0, extra_vars=declarations))
        assert not play(None, playbook=playbook, diff=False, expect_rc=0, extra_vars=declarations).changed
        return first, again, one
    return in_host(run)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--endpoints', type=int, default=200)
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args()
    if not os.path.exists(os.path.join(CNI_DIR, 'bridge')):
        sys.exit('the CNI reference plugins are missing: apt-get install containernetworking-plugins')
    n = args.endpoints
    rounds = []
    for _round in range(args.rounds):
        rounds.append((ip_batch(n), cni(n)) + ours(n))
    a, b, c, d, e = [statistics.median(column) for column in zip(*rounds)]
    print('one host, one bridge network, %d endpoints (seconds, median of %d rounds measured in this run)'
          % (n, args.rounds))
    print('  (a) ip -batch (floor)                      %7.2f' % a)
    print('  (b) CNI bridge + host-local, one ADD each  %7.2f' % b)
    print('  (c) our role, ansible-playbook             %7.2f' % c)
    print('  (d) our role again, nothing to change      %7.2f' % d)
    print('  (e) one-task playbook (fixed cost)         %7.2f' % e)
    targets = [('(c - e) / (a)', (c - e) / a, 2.5), ('(c) / (b)', c / b, 1.0), ('(d) / (e)', d / e, 3.0)]
    failed = False
    for name, ratio, limit in targets:
        ok = ratio <= limit
        failed |= not ok
        print('  %-14s %6.2f   target <= %.1f  %s' % (name, ratio, limit, 'met' if ok else 'MISSED'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
