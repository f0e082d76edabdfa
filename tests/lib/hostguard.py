"""Snapshot of the machine's own network state, to prove a test run changed nothing:
root-namespace links, addresses, routes, firewall rules and forwarding sysctls, named
namespaces, mount points, and the network namespaces that processes use."""

import json
import os
import re
import shutil
import subprocess


def _run(argv):
    proc = subprocess.run(argv, check=False, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          universal_newlines=True, env=dict(os.environ, LC_ALL='C'))
    return proc.stdout


def _ip_json(*args):
    out = _run(['ip', '-j'] + list(args))
    return json.loads(out) if out.strip() else []


def _rules(tool):
    if not shutil.which(tool):
        return None
    lines = []
    for line in _run([tool]).splitlines():
        if line.startswith('#'):
            continue                                   # timestamps
        lines.append(re.sub(r' \[\d+:\d+\]$', '', line))   # packet counters
    return lines


def snapshot():
    links = sorted((l['ifname'], l.get('mtu'), l.get('address'), l.get('master'), tuple(l.get('flags', [])))
                   for l in _ip_json('link', 'show'))
    addresses = sorted((a['ifname'], i['local'], i['prefixlen'])
                       for a in _ip_json('addr', 'show') for i in a.get('addr_info', []))
    routes = sorted(json.dumps(r, sort_keys=True)
                    for family in ('-4', '-6') for r in _ip_json(family, 'route', 'show', 'table', 'all'))
    sysctls = {}
    for key in ('ipv4/ip_forward', 'ipv4/conf/all/forwarding', 'ipv6/conf/all/forwarding'):
        try:
            with open('/proc/sys/net/' + key) as handle:
                sysctls[key] = handle.read().strip()
        except OSError:
            pass
    with open('/proc/self/mountinfo') as handle:
        mounts = sorted(line.split(' ')[4] for line in handle)
    net_namespaces = set()
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                net_namespaces.add(os.stat('/proc/%s/ns/net' % entry).st_ino)
            except OSError:
                pass
    return {
        'links': links,
        'addresses': addresses,
        'routes': routes,
        'iptables': _rules('iptables-save'),
        'ip6tables': _rules('ip6tables-save'),
        'nft': _run(['nft', 'list', 'ruleset']).splitlines() if shutil.which('nft') else None,
        'sysctls': sysctls,
        'named_namespaces': sorted(os.listdir('/run/netns')) if os.path.isdir('/run/netns') else [],
        'mounts': mounts,
        'net_namespaces': net_namespaces,
    }


def differences(before, after):
    """Human-readable differences; an empty list means nothing changed. New network
    namespaces held by processes count; ones that ended do not (other tools come and go)."""
    problems = []
    for key in before:
        if key == 'net_namespaces':
            new = after[key] - before[key]
            if new:
                problems.append('network namespaces still held by processes: %s' % sorted(new))
        elif before[key] != after[key]:
            problems.append('%s changed:\n  before: %s\n  after:  %s' % (key, before[key], after[key]))
    return problems
