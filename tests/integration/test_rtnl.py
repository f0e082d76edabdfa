"""The lean observation readers (_rtnl) read what pyroute2 reads: every link field, address,
route, forwarding entry and neighbour the planners use, on links of every kind we make (macvlan too), in the host and in a namespace, with
the modules' interpreter (Debian's pyroute2 0.7 and the newest). pyroute2's full decode is the
reference here; and links deleted with their namespace are seen going (LinkWatch)."""

import json
import os
import sys

from conftest import COLLECTIONS_PATH

SETUP = '''
set -e
ip link add br-t type bridge stp_state 1
ip link set br-t alias "netplumb network t" mtu 1400 up
ip addr add 10.7.0.1/24 dev br-t
ip -6 addr add fd00:7::1/64 dev br-t nodad
ip link add up0 type bridge
ip addr add 198.51.100.7/24 dev up0
ip link set up0 up
ip link add vx-t type vxlan id 4242 local 198.51.100.7 dev up0 dstport 4789 nolearning
ip link set vx-t up
bridge fdb append 00:00:00:00:00:00 dev vx-t dst 198.51.100.8
bridge fdb append 02:42:0a:07:00:09 dev vx-t dst 198.51.100.9
ip neigh add 10.7.0.9 lladdr 02:42:0a:07:00:09 dev vx-t nud permanent
ip -6 neigh add fd00:7::9 lladdr 02:42:0a:07:00:09 dev vx-t nud permanent
ip netns add ep
ip link add np-t mtu 1400 type veth peer name eth0 netns ep
ip link set np-t master br-t alias "netplumb endpoint ep on t" up
ip link set np-t type bridge_slave hairpin on
ip link set np-t addrgenmode none
ip -n ep link set lo up
ip -n ep link set eth0 address 02:42:0a:07:00:02 up
ip -n ep addr add 10.7.0.2/24 dev eth0
ip -n ep -6 addr add fd00:7::2/64 dev eth0 nodad
ip -n ep route add default via 10.7.0.1 metric 5
ip -n ep -6 route add default via fd00:7::1
ip -n ep route add 203.0.113.0/24 dev eth0 table 7
ip route add 192.0.2.0/24 via 198.51.100.1 proto static
ip link add mv-h link up0 type macvlan mode private
ip link add mv-t link up0 type macvlan mode bridge
ip link set mv-t netns ep name eth1
'''

# Runs inside the host with the modules' interpreter: both readings, as JSON.
COMPARE = r'''
import ipaddress, json, sys
sys.path.insert(0, sys.argv[1])
from pyroute2 import IPRoute
from ansible_collections.netplumb.container.plugins.module_utils._kernel.observe import Kernel
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import in_namespace, netns_path

def link_local(message):
    spec = message.get_attr('IFLA_AF_SPEC')
    inet6 = spec.get_attr('AF_INET6') if spec is not None else None
    return inet6 is not None and inet6.get_attr('IFLA_INET6_ADDR_GEN_MODE') != 1

MACVLAN_MODES = {1: 'private', 2: 'vepa', 4: 'bridge', 8: 'passthru', 16: 'source'}

def lower(m, kind, data, names):
    if kind not in ('macvlan', 'ipvlan', 'vlan'):
        return None
    netnsid = m.get_attr('IFLA_LINK_NETNSID')
    mode = data.get_attr('IFLA_MACVLAN_MODE') if kind == 'macvlan' and data is not None else None
    return {'index': m.get_attr('IFLA_LINK'), 'netnsid': netnsid, 'mode': MACVLAN_MODES.get(mode, mode),
            'parent': names.get(m.get_attr('IFLA_LINK')) if netnsid is None else None}

def reference(handle):
    """What the engine read with pyroute2 before _rtnl: the whole messages, decoded."""
    raw = list(handle.get_links())
    names = dict((m['index'], m.get_attr('IFLA_IFNAME')) for m in raw)
    addresses = {}
    for m in handle.get_addr():
        ip = m.get_attr('IFA_LOCAL') or m.get_attr('IFA_ADDRESS')
        if ip and ipaddress.ip_address(ip) not in ipaddress.ip_network('fe80::/10'):
            addresses.setdefault(m['index'], []).append(ipaddress.ip_interface('%s/%d' % (ip, m['prefixlen'])).with_prefixlen)
    links = {}
    for m in raw:
        info = m.get_attr('IFLA_LINKINFO')
        kind = info.get_attr('IFLA_INFO_KIND') if info is not None else None
        data = info.get_attr('IFLA_INFO_DATA') if info is not None else None
        slave = info.get_attr('IFLA_INFO_SLAVE_DATA') if info is not None and info.get_attr('IFLA_INFO_SLAVE_KIND') == 'bridge' else None
        links[m.get_attr('IFLA_IFNAME')] = {
            'index': m['index'], 'kind': kind, 'mtu': m.get_attr('IFLA_MTU'), 'alias': m.get_attr('IFLA_IFALIAS') or None,
            'mac': m.get_attr('IFLA_ADDRESS'), 'up': bool(m['flags'] & 1),
            'master': names.get(m.get_attr('IFLA_MASTER')),
            'hairpin': bool(slave.get_attr('IFLA_BRPORT_MODE')) if slave is not None else None,
            'port_learning': bool(slave.get_attr('IFLA_BRPORT_LEARNING')) if slave is not None else None,
            'neigh_suppress': bool(slave.get_attr('IFLA_BRPORT_NEIGH_SUPPRESS')) if slave is not None else None,
            'peer_index': m.get_attr('IFLA_LINK') if kind == 'veth' else None,
            'peer_netnsid': m.get_attr('IFLA_LINK_NETNSID') if kind == 'veth' else None,
            'stp': bool(data.get_attr('IFLA_BR_STP_STATE')) if kind == 'bridge' else None,
            'vxlan': {'vni': data.get_attr('IFLA_VXLAN_ID'), 'local': data.get_attr('IFLA_VXLAN_LOCAL'),
                      'dev': names.get(data.get_attr('IFLA_VXLAN_LINK')), 'dstport': data.get_attr('IFLA_VXLAN_PORT'),
                      'learning': bool(data.get_attr('IFLA_VXLAN_LEARNING'))} if kind == 'vxlan' else None,
            'lower': lower(m, kind, data, names),
            'link_local': link_local(m),
            'addresses': sorted(addresses.get(m['index'], []))}
    routes = []
    for m in handle.get_routes(table=254):
        if m['type'] != 1 or (m.get_attr('RTA_TABLE') or m['table']) != 254:
            continue
        dst = '%s/%d' % (m.get_attr('RTA_DST') or ('0.0.0.0' if m['family'] == 2 else '::'), m['dst_len'])
        routes.append({'dst': ipaddress.ip_network(dst).with_prefixlen, 'gateway': m.get_attr('RTA_GATEWAY'),
                       'dev': names.get(m.get_attr('RTA_OIF')), 'metric': m.get_attr('RTA_PRIORITY') or 0,
                       'proto': m['proto']})
    return links, sorted(routes, key=json.dumps)

def lean(kernel, namespace):
    links = dict((name, dict((k, v) for k, v in link.items() if k != 'name')) for name, link in kernel.links(namespace).items())
    for link in links.values():
        link['addresses'] = sorted(link['addresses'])
    return links, sorted(kernel.routes(namespace), key=json.dumps)

def reference_entries(handle, index):
    fdb = [{'mac': e.get_attr('NDA_LLADDR'), 'dst': e.get_attr('NDA_DST')} for e in handle.fdb('dump', ifindex=index)
           if e.get_attr('NDA_DST') is not None and e['ifindex'] == index]
    neighbours = [{'ip': e.get_attr('NDA_DST'), 'mac': e.get_attr('NDA_LLADDR')} for family in (2, 10)
                  for e in handle.get_neighbours(ifindex=index, family=family)
                  if e['state'] & 0x80 and e.get_attr('NDA_LLADDR')]
    return sorted(fdb, key=json.dumps), sorted(neighbours, key=json.dumps)

out = {}
with Kernel() as kernel:
    for namespace in (None, 'ep'):
        handle = IPRoute() if namespace is None else in_namespace(netns_path(namespace), IPRoute)
        out[namespace or 'host'] = {'reference': reference(handle), 'lean': lean(kernel, namespace)}
        if namespace is None:
            out['vtep'] = {'reference': reference_entries(handle, handle.link_lookup(ifname='vx-t')[0]),
                           'lean': (sorted(kernel.fdb(None, 'vx-t'), key=json.dumps),
                                    sorted(kernel.neighbours(None, 'vx-t'), key=json.dumps))}
        handle.close()
print(json.dumps(out))
'''

WATCH = r'''
import json, os, sys
sys.path.insert(0, sys.argv[1])
from pyroute2 import IPRoute, netns
from ansible_collections.netplumb.container.plugins.module_utils._kernel.rtnl import LinkWatch
ipr = IPRoute()
indexes = []
for i in range(int(sys.argv[2])):
    netns.create('w%d' % i)
    ipr.link('add', ifname='w%d' % i, kind='veth', peer={'ifname': 'eth0', 'net_ns_fd': 'w%d' % i})
    indexes.append(ipr.link_lookup(ifname='w%d' % i)[0])
netns.create('held')
ipr.link('add', ifname='wheld', kind='veth', peer={'ifname': 'eth0', 'net_ns_fd': 'held'})
held = ipr.link_lookup(ifname='wheld')[0]
keep = os.open('/run/netns/held', os.O_RDONLY)     # an open file keeps the namespace alive
watch = LinkWatch()
for i in range(int(sys.argv[2])):
    netns.remove('w%d' % i)
netns.remove('held')
left = watch.wait_deleted(indexes + [held], quiet=0.5)
remaining = [l.get_attr('IFLA_IFNAME') for l in ipr.get_links() if l.get_attr('IFLA_IFNAME').startswith('w')]
print(json.dumps({'left': sorted(left), 'held': held, 'remaining': remaining}))
'''


def run_script(host, tmp_path, module_python, text, *args):
    """Run ``text`` (a script of this file) in the host with the modules' interpreter; its JSON."""
    script = os.path.join(str(tmp_path), 'script.py')
    with open(script, 'w') as handle:
        handle.write(text)
    argv = [module_python or sys.executable, script, COLLECTIONS_PATH] + list(args)
    return json.loads(host.run(argv).stdout)


def test_lean_readers_read_what_pyroute2_reads(host, tmp_path, module_python):
    host.run(['sh', '-c', SETUP])
    out = run_script(host, tmp_path, module_python, COMPARE)
    for namespace, readings in out.items():
        assert readings['lean'] == readings['reference'], namespace
    links, routes = out['ep']['lean']
    # the fixture has what is worth comparing: every field set somewhere
    assert links['eth0']['addresses'] == ['10.7.0.2/24', 'fd00:7::2/64'] and links['eth0']['peer_netnsid'] is not None
    assert {'dst': '0.0.0.0/0', 'gateway': '10.7.0.1', 'dev': 'eth0', 'metric': 5, 'proto': 3} in routes
    assert {'dst': '::/0', 'gateway': 'fd00:7::1', 'dev': 'eth0', 'metric': 1024, 'proto': 3} in routes
    assert not [r for r in routes if r['dst'] == '203.0.113.0/24'], 'a route of another table was read'
    host_links = out['host']['lean'][0]
    assert host_links['br-t']['stp'] is True and host_links['np-t']['hairpin'] is True
    assert host_links['np-t']['link_local'] is False and links['eth0']['link_local'] is True
    assert host_links['vx-t']['vxlan'] == {'vni': 4242, 'local': '198.51.100.7', 'dev': 'up0', 'dstport': 4789,
                                           'learning': False}
    assert host_links['mv-h']['lower'] == {'index': host_links['up0']['index'], 'netnsid': None, 'mode': 'private',
                                           'parent': 'up0'}
    assert links['eth1']['lower']['mode'] == 'bridge' and links['eth1']['lower']['netnsid'] is not None
    assert links['eth1']['lower']['parent'] is None         # in another namespace: only its index is known
    fdb, neighbours = out['vtep']['lean']
    assert fdb == [{'mac': '00:00:00:00:00:00', 'dst': '198.51.100.8'}, {'mac': '02:42:0a:07:00:09', 'dst': '198.51.100.9'}]
    assert sorted(n['ip'] for n in neighbours) == ['10.7.0.9', 'fd00:7::9']


def test_link_watch_sees_veth_pairs_end_with_their_namespaces(host, tmp_path, module_python):
    out = run_script(host, tmp_path, module_python, WATCH, '50')
    # the 50 ended; the one whose namespace an open file holds is still there, and reported
    assert out['left'] == [out['held']] and out['remaining'] == ['wheld']


OBSERVE_ONLY = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.netplumb.container.plugins.module_utils._kernel.observe import Kernel
with Kernel() as kernel:
    seen = {'netns': kernel.observe_netns('ep', holders=True), 'links': sorted(kernel.links('ep')),
            'routes': len(kernel.routes('ep')), 'fdb': kernel.fdb(None, 'vx-t')}
print(json.dumps(dict(seen, pyroute2='pyroute2' in sys.modules)))
'''


def test_observing_needs_no_pyroute2(host, tmp_path, module_python):
    """Loading pyroute2 costs a third of a second: a run with nothing to change must not need it."""
    host.run(['sh', '-c', SETUP])
    out = run_script(host, tmp_path, module_python, OBSERVE_ONLY)
    assert out['links'] == ['eth0', 'eth1', 'lo'] and out['routes'] == 5 and len(out['fdb']) == 2
    assert out['netns']['exists'] and out['netns']['loopback_up'] and out['netns']['held'] is False
    assert out['pyroute2'] is False
