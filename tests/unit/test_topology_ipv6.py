"""The topology planner with IPv6, without a kernel: ULA subnets carved per host and kept, an
IPv6 pool released when IPv6 is turned off, static IPv6 addresses, link-local addresses only
where a network has IPv6."""

from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import hosts_path
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import (
    bridge_alias, host_ifname, mac_of, veth_alias)
from test_topology import DEFAULT, NEW, ULA_48, empty_host, link, model, plan


def test_dual_stack_network_carves_a_ula_subnet_and_gives_endpoints_both_families():
    result = plan(model([dict(NEW, enable_ipv6=True)], [
        {'name': 'web', 'networks': ['new_network'], 'published': ['8080:80']},
        {'name': 'db', 'networks': ['new_network']}]),
        empty_host(hostname='host1'))
    net = result.returns['networks']['new_network']
    assert net['ipv6_subnet'] == ULA_48 + '/64' and net['ipv6_gateway'] == ULA_48 + '1'
    assert sorted(result.pools) == ['new_network', 'new_network@ipv6']
    assert result.pools['new_network@ipv6']['leases'] == {'web': ULA_48 + '2', 'db': ULA_48 + '3'}
    bridge_adds = [op.args['address'] for op in result.ops if op.action == 'addr_add' and op.namespace is None]
    assert bridge_adds == ['172.18.0.1/16', ULA_48 + '1/64']
    web = result.returns['endpoints']['web']['interfaces']['eth0']
    assert (web['address'], web['ipv6_address']) == ('172.18.0.2/16', ULA_48 + '2/64')
    assert [op.args['route'] for op in result.ops if op.action == 'route_add' and op.namespace == 'web'] == [
        {'dst': '0.0.0.0/0', 'gateway': '172.18.0.1'}, {'dst': '::/0', 'gateway': ULA_48 + '1'}]
    assert ULA_48 + '3\tdb' in result.files[hosts_path('web')] and '172.18.0.3\tdb' in result.files[hosts_path('web')]
    assert 'ports_v6 { ::/0 . tcp . 8080 comment "new_network" : %s2 . 80 }' % ULA_48 in result.firewall
    assert 'masq_v6 { %s/64 comment "new_network" }' % ULA_48 in result.firewall
    assert result.sysctls['net.ipv6.conf.all.forwarding'] == '1'
    assert result.sysctls['net.bridge.bridge-nf-call-ip6tables'] == '1'
    assert result.record['networks']['new_network']['ipv6_subnet'] == ULA_48 + '/64'


def test_ipv6_subnet_is_stable_per_seed_and_taken_from_an_ipv6_default_pool():
    declared = model([dict(NEW, enable_ipv6=True)], [])
    assert plan(declared, empty_host(hostname='host1')).returns['networks']['new_network']['ipv6_subnet'] == \
        plan(declared, empty_host(hostname='host1')).returns['networks']['new_network']['ipv6_subnet'] != \
        plan(declared, empty_host(hostname='host2')).returns['networks']['new_network']['ipv6_subnet']
    pools = [{'base': '172.31.0.0/16', 'size': 24}, {'base': 'fd12:3456:789a::/48', 'size': 64}]
    host = empty_host(pools={'x@ipv6': {'pool': {'name': 'x@ipv6', 'subnet': 'fd12:3456:789a::/64',
                                                 'gateway': 'fd12:3456:789a::1', 'ip_range': None, 'reserved': []},
                                        'leases': {}}})
    result = plan(model([{'name': 'a', 'enable_ipv6': True}], [], default_pools=pools), host, purge=False)
    assert result.returns['networks']['a']['ipv6_subnet'] == 'fd12:3456:789a:1::/64'


def test_turning_ipv6_off_releases_the_ipv6_pool():
    first = plan(model([dict(NEW, enable_ipv6=True)], [{'name': 'web', 'networks': ['new_network']}]), empty_host())
    host = empty_host(pools=dict((name, data) for name, data in first.pools.items()),
                      record=first.record)
    result = plan(model([NEW], [{'name': 'web', 'networks': ['new_network']}]), host)
    assert result.pools == {'new_network@ipv6': None} or result.pools.get('new_network@ipv6', 'kept') is None
    assert 'ipv6: remove pool new_network@ipv6' not in result.actions
    assert 'ipam: remove pool new_network@ipv6' in result.actions


def test_a_static_ipv6_address_on_a_declared_ipv6_subnet():
    result = plan(model([dict(NEW, ipv6_subnet='fd00:9::/64', ipv6_gateway='fd00:9::fe')],
                        [{'name': 'db', 'networks': [{'name': 'new_network', 'ipv6_address': 'fd00:9::10'}]}]),
                  empty_host())
    assert result.returns['endpoints']['db']['interfaces']['eth0']['ipv6_address'] == 'fd00:9::10/64'
    assert result.returns['networks']['new_network']['ipv6_gateway'] == 'fd00:9::fe'


def test_ipv6_link_local_addresses_only_where_the_network_has_ipv6():
    """As Docker: a bridge port makes no IPv6 link-local address, nor does an endpoint's interface
    on an IPv4-only network (their solicitations and reports would be flooded to every port); set
    in the request that brings the interface up, and put right on an interface made before."""
    result = plan(model([DEFAULT, dict(NEW, enable_ipv6=True)], [
        {'name': 'v4', 'networks': ['bridge']}, {'name': 'dual', 'networks': ['new_network']}]), empty_host())
    made = dict(((op.namespace, op.name), op.args['link_local']) for op in result.ops if 'link_local' in op.args)
    assert made == {(None, host_ifname('v4', 'bridge')): False, ('v4', 'eth0'): False,
                    (None, host_ifname('dual', 'new_network')): False}      # dual's eth0 keeps the kernel's
    assert 'eth0 (in v4): make no IPv6 link-local address' in result.actions
    # an endpoint made before (its interfaces with link-local addresses) is put right, and only that changes
    v4 = model([DEFAULT], [{'name': 'v4', 'networks': ['bridge']}])
    seen = empty_host()
    first = plan(v4, seen)
    host_end, alias = host_ifname('v4', 'bridge'), veth_alias('v4', 'bridge')
    bridge = link('np0', 'bridge', alias=bridge_alias('bridge'), addresses=['172.17.0.1/16'], mac=mac_of('172.17.0.1'))
    port = link(host_end, 'veth', index=7, master='np0', alias=alias, hairpin=True, peer_index=2, peer_netnsid=0,
                link_local=True)
    eth0 = link('eth0', 'veth', index=2, peer_index=7, peer_netnsid=0, mac=mac_of('172.17.0.2'),
                addresses=['172.17.0.2/16'], link_local=True)
    lo = link('lo', None, index=1)
    converged = empty_host(
        record=first.record, pools=dict((k, v) for k, v in first.pools.items() if v is not None),
        host_links={'np0': bridge, host_end: port},
        namespaces={'v4': {'netns': {'exists': True, 'stale': False, 'id': 9, 'loopback_up': True},
                           'links': {'eth0': eth0, 'lo': lo},
                           'routes': [{'dst': '0.0.0.0/0', 'gateway': '172.17.0.1', 'dev': 'eth0', 'metric': 0,
                                       'proto': 3}]}},
        hosts=dict(first.files), firewall=seen['firewall'], sysctl=dict(first.sysctls))
    again = plan(v4, converged)
    kernel_ops = [(op.namespace, op.name, op.args) for op in again.ops]
    # (an endpoint made before the peer carried our alias gets it too)
    assert kernel_ops == [('v4', 'eth0', {'alias': alias}), ('v4', 'eth0', {'link_local': False}),
                          (None, host_end, {'link_local': False})], again.actions
