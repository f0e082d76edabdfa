# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The name server's configuration as unbound reads it, from the plan's data: pure.

unbound is the server because it alone of the distribution's servers answers each client from a
view of its own (``access-control-view``): an endpoint is answered the names of the networks it
is on and no others, whichever of its networks it asks on, and a view of an internal network
forwards nothing. It also rotates the addresses of a name (an alias of several endpoints),
answers over TCP, and forwards from the host's own namespace, where a host stub (127.0.0.53)
is reachable."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

HEADER = '# managed by netplumb.container: edits are overwritten'
PROGRAM = '/usr/sbin/unbound'
UNIT = 'netplumb-dns.service'
UNIT_PATH = '/etc/systemd/system/' + UNIT
TTL = 60    # names change with every run; a client keeps a stale answer no longer than this


def records(names):
    """[(name, address)] -> unbound's local-data lines (A/AAAA, and PTR for each address)."""
    lines = []
    for name, address in names:
        ip = ipaddress.ip_address(address)
        lines.append('  local-data: "%s. %d IN %s %s"' % (name, TTL, 'A' if ip.version == 4 else 'AAAA', ip))
    pointers = {}
    for name, address in names:
        pointers.setdefault(ipaddress.ip_address(address).reverse_pointer, name)     # the first name of an address
    lines += ['  local-data: "%s. %d IN PTR %s."' % (pointer, TTL, name) for pointer, name in sorted(pointers.items())]
    return lines


def config_text(server, paths):
    """``server``: {listen: [addresses], clients: {address: view}, views: {view: {forward,
    names: [(name, address)]}}, upstream: [addresses]}; ``paths``: {directory, pidfile}."""
    lines = [HEADER, 'server:',
             '  username: ""', '  chroot: ""',         # it binds each network's gateway when a network comes
             '  directory: "%s"' % paths['directory'], '  pidfile: "%s"' % paths['pidfile'],
             '  do-daemonize: yes', '  use-syslog: no', '  logfile: ""', '  verbosity: 0',
             '  num-threads: 1', '  port: 53',
             '  ip-freebind: yes',                        # at boot it may start before the bridges exist
             '  interface-automatic: no',
             '  module-config: "iterator"',              # a forwarder; upstreams validate, if anyone does
             '  do-not-query-localhost: no',             # a host stub (127.0.0.53) is an upstream like any
             '  rrset-roundrobin: yes',                  # an alias of several endpoints: every address, rotated
             '  minimal-responses: yes', '  hide-identity: yes', '  hide-version: yes']
    lines += ['  interface: %s' % address for address in server['listen']]
    for address, view in sorted(server['clients'].items()):
        host = '%s/%d' % (address, ipaddress.ip_address(address).max_prefixlen)
        lines += ['  access-control: %s allow' % host, '  access-control-view: %s %s' % (host, view)]
    for name, view in sorted(server['views'].items()):
        # view-first: what the view does not hold goes to unbound's own local zones first, so a
        # reverse query of a private or special address is answered here, never forwarded (RFC 6303)
        lines += ['view:', '  name: "%s"' % name, '  view-first: yes']
        if not view['forward']:
            lines.append('  local-zone: "." static')       # an internal network asks nobody outside
        lines += records(view['names'])
    if server['upstream']:
        lines += ['forward-zone:', '  name: "."'] + ['  forward-addr: %s' % a for a in server['upstream']]
    lines += ['remote-control:', '  control-enable: no']
    return '\n'.join(lines) + '\n'


def listen_of(text):
    """The addresses a configuration text listens on: a change of them needs a restart (unbound
    opens its sockets once; a reload re-reads everything else)."""
    return sorted(line.split(':', 1)[1].strip() for line in (text or '').splitlines() if line.startswith('  interface: '))


def resolv_text(endpoint, server, search):
    """/etc/netns/<ns>/resolv.conf: the network's name server; Docker's ndots:0 so a single-label
    name is asked as it is first."""
    lines = ['# netplumb endpoint %s: managed by netplumb.container, edits are overwritten' % endpoint,
             'nameserver %s' % server]
    if search:
        lines.append('search %s' % ' '.join(search))
    lines.append('options ndots:0')
    return '\n'.join(lines) + '\n'


REDIRECT_TABLE = 'netplumb_dns'


def redirect_script(server, stubs):
    """The nft transaction, run inside an endpoint's namespace, that takes a query to a loopback
    stub (``stubs``: Docker's 127.0.0.11 and the host's loopback name servers, which a process
    reading the host's /etc/resolv.conf asks) to the network's name server: the namespace's own
    loopback has nothing listening. The reply comes back through the same translation; nothing
    addressed to 127.0.0.0/8 may come in from outside (route_localnet is on for the interface)."""
    table = 'ip %s' % REDIRECT_TABLE
    addresses = ', '.join(stubs)
    return '\n'.join([
        'add table %s' % table, 'delete table %s' % table, 'table %s {' % table,
        '  chain output {', '    type nat hook output priority -100; policy accept;',
        '    ip daddr { %s } meta l4proto { udp, tcp } th dport 53 dnat to %s' % (addresses, server), '  }',
        '  chain postrouting {', '    type nat hook postrouting priority 100; policy accept;',
        '    ip saddr 127.0.0.0/8 ip daddr %s meta l4proto { udp, tcp } th dport 53 masquerade' % server, '  }',
        '  chain guard {', '    type filter hook prerouting priority raw; policy accept;',
        '    iif != "lo" ip daddr 127.0.0.0/8 drop', '  }',
        '}', ''])


def unredirect_script():
    table = 'ip %s' % REDIRECT_TABLE
    return 'add table %s\ndelete table %s\n' % (table, table)


def unit_text(config):
    """The server's systemd unit, where systemd is the host's init."""
    return '\n'.join([
        HEADER, '[Unit]', 'Description=Names of the container networks of netplumb.container (unbound)',
        # ip-freebind: it binds the gateways before the restore at boot has made the bridges
        'Before=netplumb-restore.service', '',
        '[Service]', 'ExecStart=%s -d -p -c %s' % (PROGRAM, config), 'ExecReload=/bin/kill -HUP $MAINPID',
        'Restart=on-failure', 'RestartSec=1s', '',
        '[Install]', 'WantedBy=multi-user.target', ''])
