"""topology_info's inspect view (what docker network inspect shows) and the drawing made from it."""

from ansible_collections.netplumb.container.plugins.filter.network_graph import network_graph, quote
from ansible_collections.netplumb.container.plugins.module_utils._topology.inspect import inspect, usage

RECORD = {'networks': {'web': {'bridge': 'np-web', 'subnet': '172.18.0.0/16', 'driver': 'bridge', 'namespace': None},
                       'net1': {'bridge': 'br0', 'subnet': '10.0.1.0/24', 'driver': 'overlay', 'namespace': 'ov-net1',
                                'vni': 4096, 'control_plane': 'evpn'}},
          'endpoints': {'a': {'namespace': 'a', 'attachments': {
              'web': {'host': 'npa', 'ifname': 'eth0', 'namespace': None},
              'net1': {'host': 'npb', 'ifname': 'eth1', 'namespace': 'ov-net1'}}}}}
POOLS = {'web': {'pool': {'name': 'web', 'subnet': '172.18.0.0/16', 'gateway': '172.18.0.1', 'ip_range': None,
                          'reserved': ['172.18.0.9']}, 'leases': {'a': '172.18.0.2'}},
         'net1': {'pool': {'name': 'net1', 'subnet': '10.0.1.0/24', 'gateway': '10.0.1.1', 'ip_range': '10.0.1.0/28',
                           'reserved': []}, 'leases': {'a': '10.0.1.2'}}}
DESIRED = {'networks': [{'name': 'web', 'icc': False, 'mtu': None, 'gateway_mode': 'nat'},
                        {'name': 'net1', 'vni': 4096, 'control_plane': 'evpn'}],
           'endpoints': [{'name': 'a', 'published': ['8080:80'], 'networks': ['web', {'name': 'net1', 'address': '10.0.1.2'}]}]}


def test_usage_counts_without_walking_the_pool():
    # /16: 65536 - network - broadcast - gateway - one reserved - one leased
    assert usage(POOLS['web']['pool'], POOLS['web']['leases'])['free'] == 65536 - 2 - 2 - 1
    # a range at the start of the subnet holds the network address and the gateway: 16 - 2 - 1 leased
    assert usage(POOLS['net1']['pool'], POOLS['net1']['leases'])['free'] == 13
    big = {'subnet': '10.0.0.0/8', 'gateway': '10.0.0.1', 'ip_range': None, 'reserved': []}
    assert usage(big, {})['free'] == 2 ** 24 - 3


def test_inspect_shows_each_network_with_its_options_usage_and_endpoints():
    seen = inspect(RECORD, POOLS, DESIRED)
    assert seen['web']['options'] == {'icc': False, 'gateway_mode': 'nat', 'bridge': 'np-web'}
    assert (seen['net1']['scope'], seen['net1']['options']['control_plane']) == ('global', 'evpn')
    assert seen['web']['endpoints']['a'] == {'interface': 'eth0', 'namespace': 'a', 'ipv4_address': '172.18.0.2',
                                             'ipv6_address': None, 'mac_address': '02:42:ac:12:00:02',
                                             'published': ['8080:80']}
    assert seen['net1']['endpoints']['a']['interface'] == 'eth1'


def test_the_drawing_names_everything_and_quotes_what_names_hold():
    hostvars = {'h1': {'network_info': {'inspect': inspect(RECORD, POOLS, DESIRED),
                                        'underlay': [{'address': '198.51.100.11'}]}}, 'h2': {}}
    dot = network_graph(hostvars, ['h1', 'h2'])
    for text in ('"cluster h1"', 'published 8080:80', 'overlay VNI 4096 (evpn)', '"h1/a" -- "net1"', '"cluster h2"'):
        assert text in dot
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
