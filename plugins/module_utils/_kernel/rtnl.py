# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Observation at the kernel's pace: rtnetlink dumps of links, addresses and routes read into
the plain dicts the planners use, taking from each message only the attributes they read; and
the watch that sees links go (LinkWatch).

Why not pyroute2 here (it makes every change): it decodes every attribute of every message into
objects - statistics, per-family settings, dozens a link - which is 0.5-1 ms a namespace, as
much as creating the namespace. A run that observes a thousand endpoints' namespaces and finds
nothing to do would cost seconds. These readers are the netlink message layout (linux/netlink.h,
rtnetlink.h, if_link.h) and nothing more: a request, the dump, the attributes named below."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import ipaddress
import os
import select
import socket
import struct
import time

NETLINK_ROUTE = 0
RTMGRP_LINK = 1
SO_RCVBUFFORCE = 33
SOL_NETLINK = 270
NETLINK_GET_STRICT_CHK = 12
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR = 0x1, 0x4, 0x300, 0x10
NLM_F_EXCL, NLM_F_CREATE, NLA_F_NESTED = 0x200, 0x400, 0x8000
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH = 16, 17, 18, 22, 26, 30
AF_UNSPEC, AF_INET, AF_BRIDGE, AF_INET6 = 0, 2, 7, 10
IFF_UP = 1
RTN_UNICAST = 1
MAIN_TABLE = 254

HEADER = struct.Struct('=IHHII')        # nlmsghdr: length, type, flags, sequence, port
IFINFO = struct.Struct('=BxHiII')       # ifinfomsg: family, type, index, flags, change
IFADDR = struct.Struct('=BBBBI')        # ifaddrmsg: family, prefix length, flags, scope, index
RTMSG = struct.Struct('=BBBBBBBBI')     # rtmsg: family, dst len, src len, tos, table, protocol, scope, type, flags
NDMSG = struct.Struct('=BxxxiHBB')      # ndmsg: family, index, state, flags, type
ATTR = struct.Struct('=HH')             # rtattr: length, type
U8, U16, U32, S32, BE16 = (struct.Struct('=B'), struct.Struct('=H'), struct.Struct('=I'), struct.Struct('=i'),
                           struct.Struct('>H'))

# attributes read (if_link.h, if_addr.h, rtnetlink.h)
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER, IFLA_LINKINFO = 1, 3, 4, 5, 10, 18
IFLA_IFALIAS, IFLA_AF_SPEC, IFLA_EXT_MASK, IFLA_LINK_NETNSID = 20, 26, 29, 37
IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_EUI64, IN6_ADDR_GEN_MODE_NONE = 8, 0, 1
IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA = 1, 2, 4, 5
IFLA_BR_STP_STATE = 5
IFLA_BRPORT_MODE = 4                    # hairpin
IFLA_BRPORT_LEARNING, IFLA_BRPORT_NEIGH_SUPPRESS = 8, 32     # an EVPN VTEP's port: off and on
IFLA_MACVLAN_MODE = IFLA_IPVLAN_MODE = IFLA_VLAN_ID = 1
# if_link.h: macvlan modes by flag, ipvlan modes by number
MACVLAN_MODES = {1: 'private', 2: 'vepa', 4: 'bridge', 8: 'passthru', 16: 'source'}
IPVLAN_MODES = {0: 'l2', 1: 'l3', 2: 'l3s'}
IFLA_VXLAN_ID, IFLA_VXLAN_LINK, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LEARNING, IFLA_VXLAN_PORT = 1, 3, 4, 7, 15
RTEXT_FILTER_SKIP_STATS = 1 << 3        # the kernel need not even gather link statistics
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE = 1, 4, 5, 6, 15
NDA_DST, NDA_LLADDR, NDA_IFINDEX = 1, 2, 8


class Socket(object):
    """An rtnetlink socket in the namespace it is opened in (see _netns.in_namespace)."""

    def __init__(self, groups=0, receive_buffer=None):
        """``groups``: the multicast groups of events to receive, with a ``receive_buffer`` that
        holds them all."""
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sequence = 0
        try:
            # the kernel then filters dumps itself: routes by table, neighbours by link (Linux 4.20+)
            self.sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
        except OSError:
            pass            # an older kernel sends everything; the readers filter anyway
        if receive_buffer:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, receive_buffer)     # root may exceed rmem_max
            except OSError:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.bind((0, groups))

    def close(self):
        self.sock.close()

    def dump(self, kind, body, attributes=b''):
        """The messages (bytes, their body at HEADER.size) of a dump request; repeated when the
        kernel says the dump was interrupted by a change."""
        for _attempt in range(5):
            messages, interrupted = self._request(kind, NLM_F_DUMP, body + attributes)
            if not interrupted:
                return messages
        raise OSError(errno.EINTR, 'the kernel kept changing while it was read')

    def get(self, kind, body, attributes=b''):
        """The one message answering a request that is not a dump (an error raises OSError)."""
        return self._request(kind, 0, body + attributes)[0][0]

    def delete_link(self, index):
        """Delete link ``index`` (a veth's peer goes with it) and wait for the kernel's answer; an
        error raises OSError. The one change a removal-only run makes on links, so such a run
        need not load pyroute2 (a third of a second)."""
        self._request(RTM_DELLINK, NLM_F_ACK, IFINFO.pack(0, 0, index, 0, 0))

    def _request(self, kind, flags, request):
        """Send a request; (the messages answering it, whether a dump was interrupted)."""
        self.sequence += 1
        self.sock.send(HEADER.pack(HEADER.size + len(request), kind, NLM_F_REQUEST | flags, self.sequence, 0) + request)
        messages, interrupted = [], False
        while True:
            for message, kind, message_flags, sequence in _messages(self.sock.recv(1 << 20)):
                if sequence != self.sequence:
                    continue
                interrupted |= bool(message_flags & NLM_F_DUMP_INTR)
                if kind == NLMSG_ERROR:
                    code = -S32.unpack_from(message, HEADER.size)[0]
                    if code:
                        raise OSError(code, os.strerror(code))
                if kind in (NLMSG_DONE, NLMSG_ERROR):
                    return messages, interrupted
                messages.append(message)
                if not flags & NLM_F_DUMP:
                    return messages, False


def _messages(data):
    """(message bytes, type, flags, sequence) of each netlink message in one datagram."""
    offset = 0
    while offset + HEADER.size <= len(data):
        length, kind, flags, sequence = HEADER.unpack_from(data, offset)[:4]
        if length < HEADER.size:
            raise OSError(errno.EPROTO, 'malformed netlink message')
        yield data[offset:offset + length], kind, flags, sequence
        offset += (length + 3) & ~3


class LinkWatch(Socket):
    """A socket subscribed to the link events of the namespace it is opened in. Only the message
    type and the link index are read: pyroute2 would decode each whole message, which for a
    thousand deletions costs more than the deletions."""

    RECEIVE_BUFFER = 16 << 20       # a thousand deletions without overflowing

    def __init__(self):
        super(LinkWatch, self).__init__(RTMGRP_LINK, self.RECEIVE_BUFFER)

    def wait_deleted(self, indexes, quiet=2.0):
        """Wait until every link of ``indexes`` is deleted, or until ``quiet`` seconds pass with
        none of them going; returns those left."""
        left = set(indexes)
        deadline = time.monotonic() + quiet
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.sock], [], [], wait)[0]:
                break
            try:
                data = self.sock.recv(1 << 20)
            except OSError:         # ENOBUFS: events were lost; the caller deletes what is left
                break
            for message, kind, _flags, _sequence in _messages(data):
                index = IFINFO.unpack_from(message, HEADER.size)[2] if kind == RTM_DELLINK else None
                if index in left:
                    left.discard(index)
                    deadline = time.monotonic() + quiet
        return left


def attributes(data, start, end=None):
    """type -> (start, end) of each attribute's value in data[start:end]."""
    end = len(data) if end is None else end
    found = {}
    while start + ATTR.size <= end:
        length, kind = ATTR.unpack_from(data, start)
        if length < ATTR.size:
            break
        found[kind & 0x3fff] = (start + ATTR.size, start + length)     # without the nested/byte-order bits
        start += (length + 3) & ~3
    return found


def _string(data, span):
    return data[span[0]:span[1]].split(b'\0', 1)[0].decode('utf-8', 'replace')


def _mac(data, span):
    return ':'.join('%02x' % b for b in bytearray(data[span[0]:span[1]]))


def _int(data, found, kind, form=U32):
    span = found.get(kind)
    return form.unpack_from(data, span[0])[0] if span else None


def _flag(data, found, kind, form=U8):
    """A boolean attribute of nested attributes ``found``: None without them (False without it)."""
    return None if found is None else bool(_int(data, found, kind, form))


def links(sock):
    """index -> {name, index, kind, mtu, alias, mac, up, master (an index), hairpin, port_learning, neigh_suppress,
    peer_index, peer_netnsid, stp, vxlan (its link an index), link_local}."""
    body = IFINFO.pack(AF_UNSPEC, 0, 0, 0, 0)
    found = {}
    for data in sock.dump(RTM_GETLINK, body, _attribute(IFLA_EXT_MASK, U32.pack(RTEXT_FILTER_SKIP_STATS))):
        index, flags = IFINFO.unpack_from(data, HEADER.size)[2:4]
        attrs = attributes(data, HEADER.size + IFINFO.size)
        kind = slave_kind = data_attrs = slave_attrs = None
        if IFLA_LINKINFO in attrs:
            info = attributes(data, *attrs[IFLA_LINKINFO])
            kind = _string(data, info[IFLA_INFO_KIND]) if IFLA_INFO_KIND in info else None
            slave_kind = _string(data, info[IFLA_INFO_SLAVE_KIND]) if IFLA_INFO_SLAVE_KIND in info else None
            data_attrs = attributes(data, *info[IFLA_INFO_DATA]) if IFLA_INFO_DATA in info else None
            slave_attrs = attributes(data, *info[IFLA_INFO_SLAVE_DATA]) if IFLA_INFO_SLAVE_DATA in info else None
        vxlan = None
        if kind == 'vxlan' and data_attrs is not None:
            local = data_attrs.get(IFLA_VXLAN_LOCAL)
            vxlan = {'vni': _int(data, data_attrs, IFLA_VXLAN_ID),
                     'local': _ip(data, local) if local else None,
                     'link': _int(data, data_attrs, IFLA_VXLAN_LINK),
                     'dstport': _int(data, data_attrs, IFLA_VXLAN_PORT, BE16),
                     'learning': _flag(data, data_attrs, IFLA_VXLAN_LEARNING)}
        alias = attrs.get(IFLA_IFALIAS)
        lower = None
        if kind in ('macvlan', 'ipvlan', 'vlan'):
            # the parent: an index in this namespace, or (netnsid set) in the one the link was made in
            lower = {'index': _int(data, attrs, IFLA_LINK), 'netnsid': _int(data, attrs, IFLA_LINK_NETNSID, S32),
                     'mode': _lower_mode(data, kind, data_attrs)}
        found[index] = {
            'name': _string(data, attrs[IFLA_IFNAME]),
            'index': index,
            'kind': kind,
            'mtu': _int(data, attrs, IFLA_MTU),
            'alias': (_string(data, alias) or None) if alias else None,
            'mac': _mac(data, attrs[IFLA_ADDRESS]) if IFLA_ADDRESS in attrs else None,
            'up': bool(flags & IFF_UP),
            'master': _int(data, attrs, IFLA_MASTER) or None,
            'hairpin': _flag(data, slave_attrs, IFLA_BRPORT_MODE) if slave_kind == 'bridge' else None,
            'port_learning': _flag(data, slave_attrs, IFLA_BRPORT_LEARNING) if slave_kind == 'bridge' else None,
            'neigh_suppress': _flag(data, slave_attrs, IFLA_BRPORT_NEIGH_SUPPRESS) if slave_kind == 'bridge' else None,
            'peer_index': _int(data, attrs, IFLA_LINK) if kind == 'veth' else None,
            'peer_netnsid': _int(data, attrs, IFLA_LINK_NETNSID, S32) if kind == 'veth' else None,
            'stp': _flag(data, data_attrs, IFLA_BR_STP_STATE, U32) if kind == 'bridge' else None,
            'vxlan': vxlan,
            'lower': lower,
            'link_local': _link_local(data, attrs),
        }
    return found


def _lower_mode(data, kind, data_attrs):
    if data_attrs is None:
        return None
    if kind == 'macvlan':
        return MACVLAN_MODES.get(_int(data, data_attrs, IFLA_MACVLAN_MODE))
    if kind == 'ipvlan':
        return IPVLAN_MODES.get(_int(data, data_attrs, IFLA_IPVLAN_MODE, U16))
    return _int(data, data_attrs, IFLA_VLAN_ID, U16)      # a VLAN's "mode" is its id


def link_kind_known(sock, kind):
    """Whether the kernel makes links of ``kind`` (macvlan, ipvlan, vlan: its module built in or
    loadable). Asks for one with no parent, which every such kind refuses with EINVAL after its
    module is found - nothing is made - where a kind the kernel lacks gets EOPNOTSUPP."""
    info = _attribute(IFLA_INFO_KIND, kind.encode('utf-8') + b'\0')
    request = IFINFO.pack(AF_UNSPEC, 0, 0, 0, 0) + _attribute(IFLA_IFNAME, b'npprobe0\0') \
        + _attribute(IFLA_LINKINFO | NLA_F_NESTED, info)
    try:
        sock._request(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, request)
    except OSError as error:
        return error.errno != errno.EOPNOTSUPP
    # never seen: a kind that made a link with no parent; it goes again at once
    sock.delete_link(link_index(sock, 'npprobe0'))
    return True


def _link_local(data, attrs):
    """Whether the link makes itself an IPv6 link-local address when it comes up (its address
    generation mode is not "none"); False where the kernel has no IPv6."""
    spec = attrs.get(IFLA_AF_SPEC)
    inet6 = attributes(data, *spec).get(AF_INET6) if spec else None
    return inet6 is not None and _int(data, attributes(data, *inet6), IFLA_INET6_ADDR_GEN_MODE, U8) != IN6_ADDR_GEN_MODE_NONE


def link_index(sock, name):
    """The index of the link called ``name``, or None: one request, one message, its header read."""
    try:
        data = sock.get(RTM_GETLINK, IFINFO.pack(AF_UNSPEC, 0, 0, 0, 0),
                        _attribute(IFLA_IFNAME, name.encode('utf-8') + b'\0')
                        + _attribute(IFLA_EXT_MASK, U32.pack(RTEXT_FILTER_SKIP_STATS)))
    except OSError as error:
        if error.errno == errno.ENODEV:
            return None
        raise
    return IFINFO.unpack_from(data, HEADER.size)[2]


def _attribute(kind, value):
    return ATTR.pack(ATTR.size + len(value), kind) + value + b'\0' * (-len(value) % 4)


def _ip(data, span):
    """The address in data[span], IPv4 or IPv6 by its length."""
    return socket.inet_ntop(socket.AF_INET if span[1] - span[0] == 4 else socket.AF_INET6, data[span[0]:span[1]])


def addresses(sock):
    """index -> ['address/prefix', ...]; IPv6 link-local addresses, which the kernel adds by
    itself, left out."""
    found = {}
    for data in sock.dump(RTM_GETADDR, IFADDR.pack(AF_UNSPEC, 0, 0, 0, 0)):
        family, prefixlen, _flags, _scope, index = IFADDR.unpack_from(data, HEADER.size)
        attrs = attributes(data, HEADER.size + IFADDR.size)
        span = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS)
        if span is None or family not in (AF_INET, AF_INET6):
            continue
        if family == AF_INET6 and data[span[0]] == 0xfe and data[span[0] + 1] & 0xc0 == 0x80:
            continue        # fe80::/10
        ip = _ip(data, span)
        if family == AF_INET6:
            ip = str(ipaddress.IPv6Address(ip))         # the same spelling as everywhere else
        found.setdefault(index, []).append('%s/%d' % (ip, prefixlen))
    return found


def routes(sock):
    """Unicast routes of the main table: [{dst, gateway, oif (an index), metric, proto}]."""
    body = RTMSG.pack(AF_UNSPEC, 0, 0, 0, MAIN_TABLE, 0, 0, 0, 0)
    found = []
    for data in sock.dump(RTM_GETROUTE, body, _attribute(RTA_TABLE, U32.pack(MAIN_TABLE))):
        family, dst_len, _src, _tos, table, proto, _scope, kind, _flags = RTMSG.unpack_from(data, HEADER.size)
        attrs = attributes(data, HEADER.size + RTMSG.size)
        if kind != RTN_UNICAST or (_int(data, attrs, RTA_TABLE) or table) != MAIN_TABLE:
            continue
        dst = _ip(data, attrs[RTA_DST]) if RTA_DST in attrs else ('0.0.0.0' if family == AF_INET else '::')
        gateway = _ip(data, attrs[RTA_GATEWAY]) if RTA_GATEWAY in attrs else None
        found.append({'dst': ipaddress.ip_network('%s/%d' % (dst, dst_len)).with_prefixlen,
                      'gateway': str(ipaddress.ip_address(gateway)) if gateway else None,
                      'oif': _int(data, attrs, RTA_OIF),
                      'metric': _int(data, attrs, RTA_PRIORITY) or 0,
                      'proto': proto})
    return found


def neighbours(sock, family, index):
    """Entries of link ``index`` in the neighbour tables (AF_UNSPEC: IPv4 and IPv6 at once), or
    in its forwarding database (AF_BRIDGE: a vxlan device's VTEP entries): [{state, flags, dst, mac}]."""
    found = []
    for data in sock.dump(RTM_GETNEIGH, NDMSG.pack(family, 0, 0, 0, 0), _attribute(NDA_IFINDEX, U32.pack(index))):
        link, state, flags = NDMSG.unpack_from(data, HEADER.size)[1:4]
        if link != index:
            continue            # a kernel without strict dumps sends every link's
        attrs = attributes(data, HEADER.size + NDMSG.size)
        dst, mac = attrs.get(NDA_DST), attrs.get(NDA_LLADDR)
        found.append({'state': state, 'flags': flags, 'dst': _ip(data, dst) if dst else None,
                      'mac': _mac(data, mac) if mac else None})
    return found
