# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FRR's files as netplumb writes them, pure: ``frr.conf`` (iBGP in one AS, the l2vpn evpn
address family, route reflectors with a shared cluster-id and a listen range), the two lines of
``daemons`` it needs, the unit drop-in that orders FRR after the restore at boot, and whether
a configuration already there is someone else's.

zebra runs with ``-n`` (network namespaces are VRFs): each overlay keeps Docker's layout, its
bridge and VTEP in a namespace of its own, and zebra still sees them - tried on FRR 8.4.4: the
VNI is reported in VRF ``ov-<name>``, local MACs are advertised and remote ones installed as
``extern_learn`` entries on the VTEP in that namespace."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput

CONFIG = '/etc/frr/frr.conf'
DAEMONS = '/etc/frr/daemons'
DROP_IN = '/etc/systemd/system/frr.service.d/netplumb.conf'
RELOAD = '/usr/lib/frr/frr-reload.py'
MARK = '! netplumb.container: written by netplumb.container.bgp_evpn; a change made here is replaced on its next run'
# What the distribution's package ships (comments aside): a file holding only these is FRR's
# default, not anyone's configuration, and is ours to replace.
PACKAGE_DEFAULT = ('log syslog informational', 'frr defaults traditional', 'frr defaults datacenter',
                   'service integrated-vtysh-config')
REFLECTORS, CLIENTS = 'NETPLUMB-REFLECTORS', 'NETPLUMB-VTEPS'
STATIC_LIST, STATIC_OUT = 'NETPLUMB-STATIC-VNIS', 'NETPLUMB-NOT-STATIC'
ZEBRA_NETNS = '-n'
DROP_IN_TEXT = ('# netplumb.container: zebra starts once the overlays are back, so it reads them at once\n'
                '[Unit]\nAfter=netplumb-restore.service\n')


def check(params):
    """Validated parameters, or InvalidInput naming the bad value."""
    out = dict(params)
    if out['state'] == 'absent':
        return out
    if not 1 <= out['asn'] <= 4294967295:
        raise InvalidInput('asn: %r is not an AS number (1..4294967295)' % out['asn'])
    out['router_id'] = _ipv4(out['router_id'], 'router_id')
    out['reflectors'] = [_ipv4(a, 'reflectors[%d]' % i) for i, a in enumerate(out['reflectors'] or [])]
    for index, vni in enumerate(out.get('static_vnis') or []):
        if not 1 <= vni <= 16777215:
            raise InvalidInput('static_vnis[%d]: %r is not a VXLAN network identifier (1..16777215)' % (index, vni))
    out['static_vnis'] = sorted(set(out.get('static_vnis') or []))
    if out['router_id'] in out['reflectors']:
        out['reflectors'].remove(out['router_id'])       # a reflector that is also a VTEP does not peer with itself
    if out['reflector']:
        if out['cluster_id'] is None or out['listen_range'] is None:
            raise InvalidInput('%s: required on a route reflector' % (
                'cluster_id' if out['cluster_id'] is None else 'listen_range'))
        out['cluster_id'] = _ipv4(out['cluster_id'], 'cluster_id')
        try:
            out['listen_range'] = str(ipaddress.IPv4Network(out['listen_range'], strict=False))
        except ValueError:
            raise InvalidInput('listen_range: %r is not an IPv4 network' % out['listen_range'])
    elif not out['reflectors'] and out['state'] == 'present':
        raise InvalidInput('reflectors: a VTEP needs at least one route reflector to peer with')
    return out


def _ipv4(value, option):
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise InvalidInput('%s: %r is not an IPv4 address' % (option, value))


def render(params):
    """frr.conf for this host: a VTEP peers with every reflector (iBGP, its underlay address as
    source) and advertises every VNI; a reflector takes sessions from its listen range, so a new
    host needs no change on it, and reflects to them with the cluster-id all reflectors share."""
    lines = [MARK, 'frr defaults datacenter', 'log syslog informational', 'service integrated-vtysh-config', '!']
    static = params['static_vnis'] and params['reflectors']
    if static:
        # advertise-all-vni takes every VNI zebra sees, a static overlay's too: its routes would make
        # the other hosts' zebra replace our exact entries with learned ones (and drop them when the
        # route goes). They never leave this host: denied by their route target, AS:VNI.
        lines += ['bgp extcommunity-list standard %s seq %d permit rt %d:%d' % (STATIC_LIST, 5 * (i + 1), params['asn'], vni)
                  for i, vni in enumerate(params['static_vnis'])]
        lines += ['route-map %s deny 10' % STATIC_OUT, ' match extcommunity %s' % STATIC_LIST, 'exit',
                  'route-map %s permit 20' % STATIC_OUT, 'exit', '!']
    lines += ['router bgp %d' % params['asn'], ' bgp router-id %s' % params['router_id'], ' no bgp default ipv4-unicast']
    if params['reflector']:
        lines.append(' bgp cluster-id %s' % params['cluster_id'])
    if params['reflectors']:
        lines += [' neighbor %s peer-group' % REFLECTORS, ' neighbor %s remote-as internal' % REFLECTORS,
                  ' neighbor %s update-source %s' % (REFLECTORS, params['router_id'])]
        lines += [' neighbor %s peer-group %s' % (address, REFLECTORS) for address in params['reflectors']]
    if params['reflector']:
        lines += [' neighbor %s peer-group' % CLIENTS, ' neighbor %s remote-as internal' % CLIENTS,
                  ' bgp listen range %s peer-group %s' % (params['listen_range'], CLIENTS)]
    lines.append(' !')
    lines.append(' address-family l2vpn evpn')
    if params['reflectors']:
        lines.append('  neighbor %s activate' % REFLECTORS)
    if static:
        lines.append('  neighbor %s route-map %s out' % (REFLECTORS, STATIC_OUT))
    if params['reflector']:
        lines += ['  neighbor %s activate' % CLIENTS, '  neighbor %s route-reflector-client' % CLIENTS]
    if params['vtep']:
        lines.append('  advertise-all-vni')
    lines += [' exit-address-family', 'exit', '!']
    return '\n'.join(lines) + '\n'


def owner(text):
    """'netplumb' (ours), 'package' (FRR's default, ours to take), None (no file), or the first
    line of someone else's configuration."""
    if text is None:
        return None
    if text.startswith(MARK):
        return 'netplumb'
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(('#', '!')) and line not in PACKAGE_DEFAULT and not line.startswith('frr version'):
            return line
    return 'package'


def refuse_foreign(text, path):
    """``text``: the file's, or (the controller, from topology_info) its first foreign line."""
    found = owner(text)
    if found not in (None, 'netplumb', 'package'):
        raise Conflict('%s holds an FRR configuration netplumb did not write (%r): netplumb does not merge into it. '
                       'Run the EVPN overlays on hosts whose FRR is netplumb\'s, or move that configuration away '
                       'first; nothing was changed' % (path, found))


def daemons(text, wanted):
    """``daemons`` with bgpd on and zebra watching namespaces (``wanted``), or both as the
    package ships them (not ``wanted``); the rest as it is."""
    out = []
    for line in text.splitlines():
        if re.match(r'^bgpd=', line):
            line = 'bgpd=%s' % ('yes' if wanted else 'no')
        found = re.match(r'^zebra_options="(.*)"\s*$', line)
        if found:
            words = [w for w in found.group(1).split() if w != ZEBRA_NETNS] + ([ZEBRA_NETNS] if wanted else [])
            line = 'zebra_options="  %s"' % ' '.join(words)
        out.append(line)
    return '\n'.join(out) + '\n'
