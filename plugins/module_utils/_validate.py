# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure validators: each returns the canonical form of a value or raises InvalidInput
naming the option and the bad value. They run before anything is observed or changed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput

IFNAMSIZ = 16          # kernel buffer size, including the trailing NUL
MTU_MIN = 68           # smallest MTU IPv4 allows (RFC 791)
MTU_MAX = 65535        # largest MTU a bridge or veth accepts
_MAC = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')


def optional(check, value, option):
    """``check(value, option)``, or None when the option is not given."""
    return check(value, option) if value is not None else None


def _text(value):
    return value if isinstance(value, str) else str(value)


def ifname(value, option='name'):
    """An interface name as the kernel's dev_valid_name() accepts it."""
    name = _text(value)
    size = len(name.encode('utf-8'))
    if size == 0:
        raise InvalidInput('%s: an interface name must not be empty' % option)
    if size >= IFNAMSIZ:
        raise InvalidInput('%s: interface name %r is %d bytes long; the kernel allows at most %d'
                           % (option, name, size, IFNAMSIZ - 1))
    if name in ('.', '..') or any(c in name for c in '/:') or any(c.isspace() for c in name):
        raise InvalidInput("%s: interface name %r is not allowed (no '/', ':', white space, '.' or '..')"
                           % (option, name))
    return name


def firewall_ifname(value, option='bridge'):
    """An interface name that the firewall's rules name: what the kernel accepts, less the double
    quote - nftables cannot write one inside a name, and iptables-restore takes it for quoting and
    would silently write the rule for another name."""
    name = ifname(value, option)
    if '"' in name:
        raise InvalidInput('%s: interface name %r holds a double quote, which nftables cannot write in a rule and '
                           'iptables-restore would read as quoting (the rule would name another interface); '
                           'rename it' % (option, name))
    return name


def netns_name(value, option='namespace'):
    """A named network namespace: a plain file name under /run/netns."""
    name = _text(value)
    if not name or name in ('.', '..') or '/' in name or '\0' in name or len(name.encode('utf-8')) > 255:
        raise InvalidInput("%s: %r is not a valid namespace name (a file name: no '/', not '.' or '..')"
                           % (option, name))
    return name


def mtu(value, option='mtu'):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput('%s: %r is not a number' % (option, value))
    if not MTU_MIN <= number <= MTU_MAX:
        raise InvalidInput('%s: %d is out of range (%d..%d)' % (option, number, MTU_MIN, MTU_MAX))
    return number


def mac(value, option='mac', flood=False):
    """A unicast MAC address; with ``flood``, the all-zero address of a VXLAN flood entry too."""
    text = _text(value).strip().lower().replace('-', ':')
    if not _MAC.match(text):
        raise InvalidInput('%s: %r is not a MAC address (expected six hex octets, 02:42:0a:00:00:02)'
                           % (option, value))
    if flood and text == '00:00:00:00:00:00':
        return text
    if int(text[:2], 16) & 1:
        raise InvalidInput('%s: %s is a multicast address; an interface needs a unicast one' % (option, text))
    if text == '00:00:00:00:00:00':
        raise InvalidInput('%s: 00:00:00:00:00:00 cannot be an interface address' % option)
    return text


def interface_address(value, option='addresses'):
    """An address with its prefix length, as an interface carries it: '10.0.0.1/24'."""
    text = _text(value).strip()
    if '/' not in text:
        raise InvalidInput('%s: %r has no prefix length (write it as 10.0.0.1/24)' % (option, value))
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        raise InvalidInput('%s: %r is not an IP address with prefix length' % (option, value))
    if iface.ip == iface.network.network_address and iface.network.prefixlen < iface.max_prefixlen - 1:
        raise InvalidInput('%s: %s is the network address of %s, not a host address'
                           % (option, text, iface.network))
    return iface.with_prefixlen


def interface_addresses(values, option='addresses'):
    """A list of interface addresses, canonical, without duplicates, sorted."""
    if values is None:
        return None
    canonical = [interface_address(v, option) for v in values]
    return sorted(set(canonical), key=address_sort_key)


def address_sort_key(cidr):
    iface = ipaddress.ip_interface(cidr)
    return (iface.version, iface.ip, iface.network.prefixlen)


def ip_address(value, option):
    try:
        return str(ipaddress.ip_address(_text(value).strip()))
    except ValueError:
        raise InvalidInput('%s: %r is not an IP address' % (option, value))


def route_destination(value, option='dst', family_hint=None):
    """'default' or a network in CIDR form, with no host bits set."""
    text = _text(value).strip()
    if text == 'default':
        return '::/0' if family_hint == 6 else '0.0.0.0/0'
    try:
        return ipaddress.ip_network(text, strict=True).with_prefixlen
    except ValueError as error:
        raise InvalidInput('%s: %r is not a network in CIDR form (%s)' % (option, value, error))


def pid(value, option='pid'):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput('%s: %r is not a process id' % (option, value))
    if number <= 0:
        raise InvalidInput('%s: %d is not a process id' % (option, number))
    return number


def plain(value):
    """Templated values reach filters as Ansible's own str/list/dict subclasses; the engine wants plain ones."""
    if isinstance(value, dict):
        return dict((str(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
