"""macvlan and ipvlan networks, VLAN parents and the host shim: the model's checks, the preflight of
the parent and the kernel, the plans (including the drivers this machine's kernel lacks), the
removal, and the control plane's addresses unique across the inventory."""

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import (
    lan_temporary_name, shim_alias, shim_name, veth_alias, vlan_alias)
from test_overlay import host as overlay_host
from test_topology import empty_host, link, model, plan
from ansible_collections.netplumb.container.plugins.module_utils._topology import control_plane
from ansible_collections.netplumb.container.plugins.module_utils._topology.model import model as semantic_model, thaw
from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import check_arguments

LAN = {'name': 'lan', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24', 'gateway': '198.51.100.1',
       'ip_range': '198.51.100.192/27'}
ON_LAN = [{'name': 'a', 'networks': ['lan']}, {'name': 'b', 'networks': ['lan']}]
KERNEL = {'macvlan': True, 'ipvlan': True, 'vlan': True}


def lan_host(kinds=None, **extra):
    eth0 = link('eth0', 'veth', mac='02:00:00:00:00:11', addresses=['198.51.100.11/24'], mtu=1500)
    links = {'eth0': eth0, 'lo': link('lo', None, addresses=['127.0.0.1/8'])}
    links.update(extra.pop('links', {}))
    return empty_host(host_links=links, kinds=dict(KERNEL, **(kinds or {})), **extra)


def actions(result):
    return result.actions


@pytest.mark.parametrize('network, endpoints, fragments', [
    (dict(LAN, parent=None), [], ['networks[0] (lan).parent: required for a macvlan network']),
    (dict(LAN, subnet=None, gateway=None, ip_range=None), [], ['(lan).subnet: required', 'its LAN']),
    (dict(LAN, bridge='br9'), [], ['(lan).bridge: a macvlan network has no bridge']),
    (dict(LAN, masquerade=False), [], ['(lan).masquerade', 'no NAT']),
    (dict(LAN, icc=False), [], ['(lan).icc', 'no firewall rules']),
    (dict(LAN, ipvlan_mode='l3'), [], ['(lan).ipvlan_mode: only ipvlan networks']),
    (dict(LAN, parent='eth0.4095'), [], ['(lan).parent: eth0.4095 - VLAN 4095 is not 1..4094']),
    (dict(LAN, macvlan_mode='private', host_shim=True), [], ['(lan).host_shim', 'mode private']),
    (dict(LAN, host_shim=True, shim_address='198.51.100.1'), [], ['shim_address: 198.51.100.1 is not a free address']),
    (dict(LAN, shim_address='198.51.100.200'), [], ['shim_address: 198.51.100.200 without host_shim']),
    ({'name': 'web', 'parent': 'eth0'}, [], ['networks[0] (web).parent: only macvlan and ipvlan networks']),
    ({'name': 'web', 'host_shim': True}, [], ['networks[0] (web).host_shim: only macvlan and ipvlan']),
    (LAN, [{'name': 'a', 'networks': ['lan'], 'published': ['80:80']}],
     ['endpoints (a).published: endpoint a is only on macvlan network lan', 'no NAT']),
    (dict(LAN, macvlan_mode='passthru'), ON_LAN, ['networks (lan): 2 endpoints', 'passthru']),
])
def test_model_refuses_naming_the_value(network, endpoints, fragments):
    with pytest.raises(InvalidInput) as error:
        model([network], endpoints)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_a_macvlan_endpoint_is_made_on_the_parent_and_moved_in_with_dockers_mac_and_the_lans_router():
    result = plan(model([LAN], ON_LAN), lan_host())
    temporary = lan_temporary_name('a', 'lan')
    ops = [(op.action, op.namespace, op.name) for op in result.ops]
    assert ops.index(('link_add', None, temporary)) < ops.index(('link_move', None, temporary))
    add = [op for op in result.ops if op.name == temporary and op.action == 'link_add'][0]
    assert add.args == {'kind': 'macvlan', 'parent': 'eth0', 'mode': 'bridge'}
    assert 'eth0 (in a): set MAC address 02:42:c6:33:64:c0' in result.actions
    assert 'eth0 (in a): add address 198.51.100.192/24' in result.actions
    assert '0.0.0.0/0 (in a): add route default via 198.51.100.1' in result.actions
    assert result.firewall is None and not result.sysctls            # no NAT, no firewall, no forwarding
    assert result.returns['endpoints']['a']['interfaces']['eth0']['host_interface'] is None
    assert result.record['endpoints']['a']['attachments']['lan'] == {
        'host': None, 'ifname': 'eth0', 'namespace': None, 'driver': 'macvlan', 'parent': 'eth0'}
    assert result.returns['networks']['lan']['mtu'] == 1500          # the parent's
    # internal: no default route through the LAN's router
    internal = plan(model([dict(LAN, internal=True)], ON_LAN), lan_host())
    assert not [a for a in internal.actions if 'route default' in a]


def test_the_shim_takes_a_lease_and_routes_each_local_endpoint():
    result = plan(model([dict(LAN, host_shim=True)], ON_LAN), lan_host())
    shim = shim_name('lan')
    assert '%s: create the host shim (macvlan mode bridge on eth0)' % shim in result.actions
    assert 'ipam: pool lan: lease 198.51.100.194 to @shim' in result.actions
    assert '%s: add address 198.51.100.194/32' % shim in result.actions
    routes = sorted(op.name for op in result.ops if op.action == 'route_add' and op.namespace is None)
    assert routes == ['198.51.100.192/32', '198.51.100.193/32']
    # a declared address (the control plane's) is the one leased
    declared = plan(model([dict(LAN, host_shim=True, shim_address='198.51.100.220')], ON_LAN), lan_host())
    assert '%s: add address 198.51.100.220/32' % shim in declared.actions


def test_ipvlan_and_a_vlan_parent_are_planned_where_the_kernel_has_them():
    network = dict(LAN, driver='ipvlan', parent='eth0.10', subnet='10.10.0.0/24', gateway=None, ip_range=None)
    result = plan(model([network], ON_LAN), lan_host())
    vlan = [op for op in result.ops if op.name == 'eth0.10' and op.action == 'link_add'][0]
    assert vlan.args == {'kind': 'vlan', 'parent': 'eth0', 'vlan_id': 10}
    assert "eth0.10: set alias '%s'" % vlan_alias('lan') in result.actions
    add = [op for op in result.ops if op.name == lan_temporary_name('a', 'lan') and op.action == 'link_add'][0]
    assert add.args == {'kind': 'ipvlan', 'parent': 'eth0.10', 'mode': 'l2'}
    assert not [a for a in result.actions if 'set MAC' in a and '(in a)' in a]      # the parent's MAC
    # the network that goes takes the VLAN netplumb made with it
    made = link('eth0.10', 'vlan', alias=vlan_alias('lan'))
    record = {'networks': {'lan': {'driver': 'ipvlan', 'parent': 'eth0.10', 'bridge': None, 'namespace': None}},
              'endpoints': {}}
    gone = plan(model([], []), lan_host(links={'eth0.10': made}, record=record))
    assert gone.actions == ['eth0.10: delete VLAN eth0.10, made for network lan']


@pytest.mark.parametrize('network, kinds, host_links, fragments', [
    (dict(LAN, driver='ipvlan'), {'ipvlan': False}, {}, ['networks (lan).driver', 'module ipvlan']),
    (dict(LAN, parent='eth0.10'), {'vlan': False}, {}, ['networks (lan).parent (eth0.10)', 'module 8021q']),
    (dict(LAN, parent='eth9'), {}, {}, ['(lan).parent: eth9 is not an interface of this host (it has eth0)']),
    (LAN, {}, {'eth0': link('eth0', 'veth', mac='02:00:00:00:00:11', master='br0')}, ['eth0 is a port of br0']),
    (LAN, {}, {'eth0': link('eth0', 'veth', mac='02:00:00:00:00:11', up=False)}, ['eth0 is down']),
    (dict(LAN, subnet='10.9.0.0/24', gateway=None, ip_range=None), {}, {},
     ['(lan).subnet: 10.9.0.0/24 is not the LAN of parent eth0, which is on 198.51.100.0/24']),
    (dict(LAN, mtu=9000), {}, {}, ['(lan).mtu: 9000 is more than parent eth0\'s MTU 1500']),
])
def test_the_parent_and_the_kernel_are_checked_before_any_change(network, kinds, host_links, fragments):
    with pytest.raises(InvalidInput) as error:
        plan(model([network], []), lan_host(kinds, links=host_links))
    for fragment in fragments:
        assert fragment in str(error.value)


def test_a_parent_not_up_yet_at_boot_is_no_fault():
    down = {'eth0': link('eth0', 'veth', mac='02:00:00:00:00:11', up=False, addresses=['198.51.100.11/24'])}
    assert plan(model([LAN], ON_LAN), lan_host(links=down, restoring=True)).changed


def test_what_is_not_ours_is_refused_and_ours_is_recognised():
    shim = link(shim_name('lan'), 'macvlan', alias='someone else')
    with pytest.raises(Conflict) as error:
        plan(model([dict(LAN, host_shim=True)], []), lan_host(links={shim['name']: shim}))
    assert 'netplumb did not make it' in str(error.value)
    ours = link(shim_name('lan'), 'macvlan', alias=shim_alias('lan'))
    result = plan(model([LAN], []), lan_host(links={ours['name']: ours}))
    assert '%s: delete the host shim of network lan' % ours['name'] in result.actions


def test_a_macvlan_interface_whose_mode_changed_is_made_anew():
    eth0 = link('eth0', 'macvlan', alias=veth_alias('a', 'lan'), mac='02:42:c6:33:64:c0',
                addresses=['198.51.100.192/24'], link_local=False, lower={'mode': 'bridge', 'parent': None})
    default = {'dst': '0.0.0.0/0', 'gateway': '198.51.100.1', 'dev': 'eth0', 'metric': 0, 'proto': 3}
    namespaces = {'a': {'netns': {'exists': True, 'stale': False, 'id': 1, 'loopback_up': True},
                        'links': {'eth0': eth0}, 'routes': [default], 'dns_redirect': False}}
    record = {'networks': {'lan': {'driver': 'macvlan', 'parent': 'eth0', 'bridge': None, 'namespace': None}},
              'endpoints': {'a': {'mode': 'bridge', 'namespace': 'a', 'created': True, 'attachments': {'lan': {
                  'host': None, 'ifname': 'eth0', 'namespace': None, 'driver': 'macvlan', 'parent': 'eth0'}}}}}
    pools = {'lan': {'pool': thaw(model([LAN], ON_LAN[:1])['networks'][0]['pool']), 'leases': {'a': '198.51.100.192'}}}
    same = plan(model([LAN], ON_LAN[:1]), lan_host(namespaces=namespaces, record=record, pools=pools))
    assert [a for a in same.actions if '(in a)' in a and 'hosts' not in a] == []
    private = plan(model([dict(LAN, macvlan_mode='private')], ON_LAN[:1]),
                   lan_host(namespaces=namespaces, record=record, pools=pools))
    assert 'eth0 (in a): delete to recreate: mode bridge -> private' in private.actions


def lan_plan(hosts):
    """The role's controller path for LAN networks: spec, control plane, then each host's model."""
    prepared, arguments = [], {}
    for h in hosts:
        validated, problem = check_arguments({'networks': h['networks'], 'endpoints': h['endpoints']})
        assert problem is None, problem
        prepared.append(dict(h, networks=validated['networks'], endpoints=validated['endpoints']))
        arguments[h['name']] = validated
    return dict((name, thaw(semantic_model(dict(arguments[name], networks=networks, endpoints=endpoints))))
                for name, (networks, endpoints) in control_plane.plan_overlays(prepared).items())


def lan_hosts(shim_on=(), leases=None):
    hosts = []
    for index, name in enumerate(('host1', 'host2', 'host3')):
        endpoints = [] if name == 'host2' else [{'name': 'c' + name[-1], 'networks': ['lan']}]
        h = overlay_host(name, '198.51.100.1%d' % (index + 1), endpoints, leases=(leases or {}).get(name))
        h['networks'] = [dict(LAN, subnet='198.51.100.0/24', ip_range=None, host_shim=name in shim_on)]
        hosts.append(h)
    return hosts


def address(result, host, endpoint):
    return [a for e in result[host]['endpoints'] if e['name'] == endpoint for a in e['networks']][0]['address']


def test_lan_addresses_are_unique_across_the_inventory_and_skip_the_hosts_own():
    result = lan_plan(lan_hosts(shim_on=('host3',)))
    # .1 is the router (gateway); .11-.13 are the play hosts' own addresses on the LAN: never handed out
    assert (address(result, 'host1', 'c1'), address(result, 'host3', 'c3')) == ('198.51.100.2', '198.51.100.3')
    lan3 = [n for n in result['host3']['networks'] if n['name'] == 'lan'][0]
    assert lan3['shim_address'] == '198.51.100.4'
    assert [ep['name'] for peer in lan3['peers'] for ep in peer['endpoints']] == ['c1']       # names in the hosts files
    # a host's leases are kept, run after run, also when the order of handing out would change
    kept = lan_plan(lan_hosts(leases={'host3': {'lan': {'c3': '198.51.100.50', '@shim': '198.51.100.51'}}},
                              shim_on=('host3',)))
    assert address(kept, 'host3', 'c3') == '198.51.100.50'
    assert [n for n in kept['host3']['networks'] if n['name'] == 'lan'][0]['shim_address'] == '198.51.100.51'
    # a LAN declared differently on two hosts is refused, naming both and the difference
    hosts = lan_hosts()
    hosts[1]['networks'] = [dict(hosts[1]['networks'][0], subnet='198.51.100.0/25')]
    with pytest.raises(InvalidInput) as error:
        lan_plan(hosts)
    assert 'the macvlan network is declared differently on host1 and host2' in str(error.value)
    # the parent and the shim are each host's own
    hosts = lan_hosts()
    hosts[1]['networks'] = [dict(hosts[1]['networks'][0], parent='ens3', host_shim=True)]
    assert [n['parent'] for n in lan_plan(hosts)['host2']['networks']] == ['ens3']


def test_an_ipvlan_shim_as_wanted_changes_nothing_and_shows_no_mac_of_its_parents():
    network = dict(LAN, driver='ipvlan', host_shim=True, shim_address='198.51.100.220')
    shim = link(shim_name('lan'), 'ipvlan', alias=shim_alias('lan'), mac='02:00:00:00:00:11', link_local=False,
                addresses=['198.51.100.220/32'], lower={'mode': 'l2', 'parent': 'eth0'})
    record = {'networks': {'lan': {'driver': 'ipvlan', 'parent': 'eth0', 'bridge': None, 'namespace': None}},
              'endpoints': {}}
    pools = {'lan': {'pool': thaw(model([network], [])['networks'][0]['pool']), 'leases': {'@shim': '198.51.100.220'}}}
    result = plan(model([network], []), lan_host(links={shim['name']: shim}, record=record, pools=pools))
    assert [a for a in result.actions if 'desired' not in a] == []
    assert result.before['networks']['lan']['host_shim'] == result.after['networks']['lan']['host_shim']
    assert 'mac' not in result.after['networks']['lan']['host_shim']
