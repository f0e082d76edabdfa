# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IP address management: pools and leases keyed by owner, kept on the managed host.

The store is a directory with one JSON file per pool, guarded by one lock file
(fcntl.flock), so concurrent allocations on a host never hand out one address twice.
Planning (``plan_leases``) is pure; only ``Store`` touches the disk.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import fcntl
import ipaddress
import json
import os

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput, NotFound
from ansible_collections.netplumb.container.plugins.module_utils._files import ensure_dir, exclusive, remove_file, write_atomically

DEFAULT_STORE = '/var/lib/netplumb/ipam'


def _address(value, option, network=None):
    try:
        ip = ipaddress.ip_address(str(value).split('/', maxsplit=1)[0].strip())
    except ValueError:
        raise InvalidInput('%s: %r is not an IP address' % (option, value))
    if network is not None and ip not in network:
        raise InvalidInput('%s: %s is not in the subnet %s' % (option, ip, network))
    return ip


def _usable(network, ip):
    """Not the network address nor, for IPv4 up to /30, the broadcast address."""
    if network.prefixlen >= network.max_prefixlen - 1:
        return True
    if ip == network.network_address:
        return False
    return not (network.version == 4 and ip == network.broadcast_address)


def pool_spec(name, subnet, gateway=None, ip_range=None, reserved=None):
    """A validated, canonical pool definition. The gateway defaults, as Docker's does, to
    the first address of the subnet."""
    if not name or '/' in name or name.startswith('.'):
        raise InvalidInput('pool.name: %r is not a usable pool name' % name)
    try:
        network = ipaddress.ip_network(str(subnet), strict=True)
    except ValueError as error:
        raise InvalidInput('pool.subnet: %r is not a network in CIDR form (%s)' % (subnet, error))
    if gateway is None:
        gw = next(iter(network.hosts()), None)
    else:
        gw = _address(gateway, 'pool.gateway', network)
        if not _usable(network, gw):
            raise InvalidInput('pool.gateway: %s is the network or broadcast address of %s' % (gw, network))
    span = None
    if ip_range is not None:
        try:
            span = ipaddress.ip_network(str(ip_range), strict=True)
        except ValueError as error:
            raise InvalidInput('pool.ip_range: %r is not a network in CIDR form (%s)' % (ip_range, error))
        if span.version != network.version or not span.subnet_of(network):
            raise InvalidInput('pool.ip_range: %s is not inside the subnet %s' % (span, network))
    aux = sorted(set(_address(r, 'pool.reserved', network) for r in reserved or []))
    return {'name': name, 'subnet': str(network), 'gateway': str(gw) if gw else None,
            'ip_range': str(span) if span else None, 'reserved': [str(a) for a in aux]}


def candidates(pool):
    """Addresses a pool hands out, in order."""
    network = ipaddress.ip_network(pool['subnet'])
    span = ipaddress.ip_network(pool['ip_range']) if pool['ip_range'] else network
    excluded = set(pool['reserved']) | set([pool['gateway']])
    for ip in span:
        if _usable(network, ip) and str(ip) not in excluded:
            yield ip


def plan_leases(pool, leases, requests, state, exclusive):
    """Return (new_leases, changes). ``leases``: owner -> address held now; ``requests``:
    [{owner, address or None}]. Re-running with the same requests changes nothing."""
    network = ipaddress.ip_network(pool['subnet'])
    new = dict(leases)
    changes = []
    owners = [r['owner'] for r in requests]
    if state == 'absent':
        for owner in owners:
            if owner in new:
                changes.append('release %s from %s' % (new.pop(owner), owner))
        return new, changes
    if exclusive:
        for owner in sorted(leases):
            if owner not in owners:
                changes.append('release %s from %s' % (new.pop(owner), owner))
    for request in requests:
        owner, wanted = request['owner'], request.get('address')
        if wanted is None:
            continue
        ip = _address(wanted, 'leases[%s].address' % owner, network)
        address = str(ip)
        if not _usable(network, ip) or address == pool['gateway'] or address in pool['reserved']:
            raise Conflict('leases: %s cannot be leased to %s: it is the %s of pool %s' % (
                address, owner, 'gateway' if address == pool['gateway'] else
                'a reserved address' if address in pool['reserved'] else 'network or broadcast address', pool['name']))
        holder = [o for o, a in new.items() if a == address and o != owner]
        if holder:
            raise Conflict('leases: %s cannot be leased to %s: pool %s has leased it to %s'
                           % (address, owner, pool['name'], holder[0]))
        if new.get(owner) != address:
            changes.append('lease %s to %s%s' % (address, owner, ' (was %s)' % new[owner] if owner in new else ''))
            new[owner] = address
    taken = set(new.values())
    free = (str(ip) for ip in candidates(pool) if str(ip) not in taken)
    for request in requests:
        owner = request['owner']
        if owner in new:
            continue
        address = next(free, None)
        if address is None:
            raise Conflict('pool %s (%s%s) is exhausted: no free address for %s' % (
                pool['name'], pool['subnet'], ', range %s' % pool['ip_range'] if pool['ip_range'] else '', owner))
        new[owner] = address
        changes.append('lease %s to %s' % (address, owner))
    return new, changes


def check_redefinition(old, new, leases):
    """A pool's definition may change only while every lease still fits it."""
    if old is None or dict(old, name=None) == dict(new, name=None):
        return
    network = ipaddress.ip_network(new['subnet'])
    for owner, address in sorted(leases.items()):
        ip = ipaddress.ip_address(address)
        if ip not in network or address == new['gateway'] or address in new['reserved']:
            raise Conflict('pool %s: cannot change it to subnet %s gateway %s: %s holds %s'
                           % (new['name'], new['subnet'], new['gateway'], owner, address))


def check_overlap(pool, others):
    network = ipaddress.ip_network(pool['subnet'])
    for other in others:
        if other['name'] != pool['name'] and network.overlaps(ipaddress.ip_network(other['subnet'])):
            raise Conflict('pool %s: subnet %s overlaps pool %s (%s)'
                           % (pool['name'], pool['subnet'], other['name'], other['subnet']))


def plan_pool(pool, data, requests, others, state='present', exclusive=True, kept=None):
    """The one pool planner, of the ipam module and of the topology engine: (leases after, the pool's
    change in words or None, the leases' changes in words). ``data``: the stored {pool, leases} or
    None; ``others``: the other pools (overlap); ``kept``: the leases whose owners stay (a changed
    pool must still hold them; default all)."""
    old = data['leases'] if data else {}
    check_overlap(pool, others)
    check_redefinition(data['pool'] if data else None, pool, old if kept is None else kept)
    new, changes = plan_leases(pool, old, requests, state, exclusive)
    if data is None:
        said = 'create pool %s %s' % (pool['name'], pool['subnet'])
    elif data['pool'] != pool:
        said = 'change pool %s to %s' % (pool['name'], ', '.join(
            '%s %s' % (k, v) for k, v in sorted(pool.items()) if v != data['pool'].get(k)))
    else:
        said = None
    return new, said, changes


def next_subnet(supernets, prefixlen, used=()):
    """The first subnet of ``prefixlen`` inside ``supernets`` (in order) that overlaps none
    of ``used`` — how Docker picks a network's subnet from its default address pools."""
    taken = [ipaddress.ip_network(u, strict=False) for u in used]
    for supernet in supernets:
        network = ipaddress.ip_network(supernet, strict=True)
        if prefixlen < network.prefixlen:
            raise InvalidInput('prefixlen: /%d is larger than the pool %s' % (prefixlen, network))
        for candidate in network.subnets(new_prefix=prefixlen):
            if not any(candidate.overlaps(t) for t in taken):
                return str(candidate)
    raise Conflict('no free /%d left in %s' % (prefixlen, ', '.join(supernets)))


class Store(object):
    """One JSON file per pool under ``path``; ``locked()`` serialises every reader-writer."""

    def __init__(self, path=DEFAULT_STORE):
        self.path = path

    @contextlib.contextmanager
    def locked(self, create):
        if not os.path.isdir(self.path):
            if not create:
                yield False
                return
            ensure_dir(self.path)
        path = os.path.join(self.path, '.lock')
        if not create and not os.path.exists(path):
            yield True          # a reader (check mode) creates nothing, not even the lock file
            return
        with (exclusive(path) if create else open(path, 'r')) as lock:
            if not create:
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield True

    def tidy(self):
        """Remove the store's directory when it holds no pool (only its lock file, or leftovers
        of a write cut short); called under the caller's own lock, after the last pool went."""
        try:
            names = os.listdir(self.path)
        except OSError:
            return
        if [n for n in names if n.endswith('.json')]:
            return
        for name in names:
            os.unlink(os.path.join(self.path, name))
        os.rmdir(self.path)

    def _file(self, name):
        return os.path.join(self.path, name + '.json')

    def read(self, name):
        try:
            with open(self._file(name)) as handle:
                data = json.load(handle)
        except IOError:
            return None
        except ValueError as error:
            raise InvalidInput('IPAM store %s is corrupt (%s); fix or remove it by hand, nothing was changed'
                               % (self._file(name), error))
        if not isinstance(data, dict) or not isinstance(data.get('pool'), dict) or not isinstance(
                data.get('leases'), dict):
            raise InvalidInput('IPAM store %s is corrupt (no pool or leases); fix or remove it by hand, nothing '
                               'was changed' % self._file(name))
        return data

    def all(self):
        """Every pool's content (pool and leases), by pool name."""
        names = sorted(f[:-5] for f in os.listdir(self.path) if f.endswith('.json')) if os.path.isdir(self.path) else []
        return dict((name, self.read(name)) for name in names)

    def pools(self):
        return [data['pool'] for _name, data in sorted(self.all().items())]

    def write(self, name, data):
        write_atomically(self._file(name), json.dumps(data, indent=1, sort_keys=True))

    def remove(self, name):
        if not os.path.exists(self._file(name)):
            raise NotFound('pool %s does not exist in %s' % (name, self.path))
        remove_file(self._file(name))
