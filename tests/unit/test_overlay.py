"""The overlay control plane without hosts: VNIs, addresses, MTU, peers, gateway bridge."""

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._topology import control_plane
from ansible_collections.netplumb.container.plugins.module_utils._topology.model import model, thaw
from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import check_arguments
from ansible_collections.netplumb.container.plugins.module_utils._topology.overlay import forwarding

NETS = [{'name': 'net1', 'subnet': '10.0.1.0/24'}, {'name': 'net2', 'subnet': '10.0.2.0/24'}]


def plan_overlays(overlays, hosts):
    """What the network role does on the controller: every host declares the overlays next to its
    own networks, the control plane fills them in, and each host's result is the module's model."""
    prepared, arguments = [], {}
    for h in hosts:
        validated, problem = check_arguments({
            'networks': h['networks'] + [dict(n, driver='overlay') for n in overlays], 'endpoints': h['endpoints']})
        if problem:
            raise InvalidInput(problem)
        prepared.append(dict(h, networks=validated['networks'], endpoints=validated['endpoints']))
        arguments[h['name']] = validated
    return dict((name, thaw(model(dict(arguments[name], networks=networks, endpoints=endpoints))))
                for name, (networks, endpoints) in control_plane.plan_overlays(prepared).items())


def attachments(endpoint):
    return [(a['name'], a['address']) for a in endpoint['networks']]


def host(name, address, endpoints, leases=None, networks=None, mtu=1500, vnis=None):
    return {'name': name, 'underlay': None, 'networks': [],
            'endpoints': endpoints,
            'info': {'underlay': [{'address': address, 'prefix': 24, 'device': 'eth0', 'mtu': mtu}],
                     'default_device': 'eth0', 'leases': leases or {},
                     'networks': dict((n, {'driver': 'overlay', 'vni': v}) for n, v in (vnis or {}).items())}}


def seed004(**extra):
    """net1c1/net2c1 on host1, net1c2/net2c2 on host2, net1c3 on host3."""
    return [host('host1', '198.51.100.11', [{'name': 'net1c1', 'networks': ['net1']},
                                            {'name': 'net2c1', 'networks': ['net2']}], **extra.get('host1', {})),
            host('host2', '198.51.100.12', [{'name': 'net1c2', 'networks': ['net1']},
                                            {'name': 'net2c2', 'networks': ['net2']}], **extra.get('host2', {})),
            host('host3', '198.51.100.13', [{'name': 'net1c3', 'networks': ['net1']}], **extra.get('host3', {}))]


def overlay(result, host_name, net):
    return [n for n in result[host_name]['networks'] if n['name'] == net][0]


def test_seed004_every_host_gets_its_part():
    result = plan_overlays(NETS, seed004())
    one = overlay(result, 'host1', 'net1')
    assert (one['vni'], one['mtu'], one['local']) == (4096, 1450, '198.51.100.11')
    assert overlay(result, 'host2', 'net2')['vni'] == 4097
    assert [p['vtep'] for p in one['peers']] == ['198.51.100.12', '198.51.100.13']
    assert one['peers'][0]['endpoints'] == [{'ip': '10.0.1.3', 'mac': '02:42:0a:00:01:03', 'name': 'net1c2', 'ipv6': None,
                                             'aliases': []}]
    # host3 has no endpoint on net2: no net2 there, and nobody's net2 lists it
    assert [n['name'] for n in result['host3']['networks']] == ['net1', 'gwbridge']
    assert [p['vtep'] for p in overlay(result, 'host1', 'net2')['peers']] == ['198.51.100.12']
    eps = dict((e['name'], e) for e in result['host1']['endpoints'])
    assert attachments(eps['net1c1']) == [('net1', '10.0.1.2'), ('gwbridge', None)]


def test_addresses_and_vnis_come_back_from_the_hosts():
    """A new controller (AWX) reads leases and VNIs from the hosts: nothing moves."""
    first = plan_overlays(NETS, seed004())
    kept = seed004(host1={'leases': {'net1': {'net1c1': '10.0.1.77'}}, 'vnis': {'net1': 9000, 'net2': 4097}},
                   host2={'leases': {'net1': {'net1c2': '10.0.1.2'}}, 'vnis': {'net1': 9000}})
    again = plan_overlays(NETS, kept)
    ips = dict((e['name'], e['networks'][0]['address']) for h in again.values() for e in h['endpoints'])
    assert ips['net1c1'] == '10.0.1.77' and ips['net1c2'] == '10.0.1.2'
    assert ips['net1c3'] == '10.0.1.3'           # the lowest address nobody holds
    assert overlay(again, 'host3', 'net1')['vni'] == 9000
    assert overlay(first, 'host1', 'net2')['vni'] == overlay(again, 'host1', 'net2')['vni'] == 4097


def test_two_hosts_claiming_one_address_keep_it_for_the_first():
    split = seed004(host1={'leases': {'net1': {'net1c1': '10.0.1.5'}}},
                    host2={'leases': {'net1': {'net1c2': '10.0.1.5'}}})
    result = plan_overlays(NETS, split)
    ips = dict((e['name'], e['networks'][0]['address']) for h in result.values() for e in h['endpoints'])
    assert ips['net1c1'] == '10.0.1.5' and ips['net1c2'] != '10.0.1.5'


def test_a_host_that_leaves_leaves_every_table():
    result = plan_overlays(NETS, seed004()[:2])
    assert [p['vtep'] for p in overlay(result, 'host1', 'net1')['peers']] == ['198.51.100.12']


def test_mtu_is_the_smallest_underlay_minus_50_and_a_bigger_one_fails():
    hosts = seed004(host3={'mtu': 1400})
    assert overlay(plan_overlays(NETS, hosts), 'host1', 'net1')['mtu'] == 1350
    assert overlay(plan_overlays(NETS, hosts), 'host1', 'net2')['mtu'] == 1450      # host3 is not on net2
    with pytest.raises(InvalidInput) as error:
        plan_overlays([dict(NETS[0], mtu=1400), NETS[1]], hosts)
    assert 'mtu: 1400 does not fit' in str(error.value) and 'host3' in str(error.value)


@pytest.mark.parametrize('networks, hosts, fragments', [
    ([{'name': 'net1'}], seed004(), ['subnet', 'required']),
    ([dict(NETS[0], vni=0)], seed004(), ['vni', '0']),
    ([dict(NETS[0], vni=7), dict(NETS[1], vni=7)], seed004(), ['VNI 7']),
    ([NETS[0], dict(NETS[1], subnet='10.0.1.128/25')], seed004(), ['overlaps']),
    ([NETS[0], NETS[0]], seed004(), ['name net1 is also used']),
    ([dict(NETS[0], colour='red')], seed004(), ['colour']),
    ([dict(NETS[0], state='absent'), NETS[1]], seed004(), ['marked absent', 'net1c1']),
    (NETS, [host('host1', '198.51.100.11', [{'name': 'x', 'networks': ['net1']}]),
            host('host2', '198.51.100.12', [{'name': 'x', 'networks': ['net1']}])], ['two hosts', 'x']),
    (NETS, [host('host1', '198.51.100.11', [{'name': 'x', 'networks': [{'name': 'net1', 'address': '10.0.9.1'}]}])],
     ['10.0.9.1']),
])
def test_bad_declarations_fail_naming_the_value(networks, hosts, fragments):
    with pytest.raises(InvalidInput) as error:
        plan_overlays(networks, hosts)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_an_exhausted_overlay_says_which_endpoint_found_no_address():
    hosts = [host('host1', '198.51.100.11', [{'name': 'e%d' % i, 'networks': ['tiny']} for i in range(3)])]
    with pytest.raises(Conflict) as error:
        plan_overlays([{'name': 'tiny', 'subnet': '10.9.0.0/30'}], hosts)
    assert 'exhausted' in str(error.value) and 'e1' in str(error.value)     # e0 took the one free address


def test_endpoints_and_bridge_networks_of_the_host_pass_through():
    hosts = [host('host1', '198.51.100.11', [{'name': 'web', 'networks': ['front', 'net1']}, {'name': 'plain'}])]
    hosts[0]['networks'] = [{'name': 'front', 'subnet': '10.5.0.0/24'}, {'name': 'bridge', 'subnet': '10.6.0.0/24'}]
    result = plan_overlays(NETS, hosts)['host1']
    assert [n['name'] for n in result['networks']] == ['front', 'bridge', 'net1', 'gwbridge']
    assert attachments(result['endpoints'][0]) == [('front', None), ('net1', '10.0.1.2'), ('gwbridge', None)]
    assert attachments(result['endpoints'][1]) == [('bridge', None)]     # Docker's default network


def test_the_underlay_is_never_a_bridge_netplumb_made():
    """After the first run the gateway bridge holds an address too; it must not look like an underlay."""
    hosts = seed004()
    for h in hosts:
        h['info']['default_device'] = None
        h['info']['underlay'].append({'address': '172.30.0.1', 'prefix': 16, 'device': 'np_gwbridge', 'mtu': 1500,
                                      'netplumb': True})
    assert overlay(plan_overlays(NETS, hosts), 'host1', 'net1')['local'] == '198.51.100.11'
    hosts[0]['info']['underlay'].append({'address': '192.168.9.1', 'prefix': 24, 'device': 'eth1', 'mtu': 9000})
    with pytest.raises(InvalidInput) as error:
        plan_overlays(NETS, hosts)
    assert 'netplumb_underlay_address' in str(error.value) and '192.168.9.1' in str(error.value)
    hosts[0]['underlay'] = '192.168.9.1'
    assert overlay(plan_overlays(NETS, hosts), 'host1', 'net1')['local'] == '192.168.9.1'


def test_a_dual_stack_overlay_gives_every_endpoint_an_ipv6_address_known_to_every_peer():
    nets = [dict(NETS[0], ipv6_subnet='fd00:1::/64')] + NETS[1:]
    leases = {'host2': {'leases': {'net1@ipv6': {'net1c2': 'fd00:1::20'}}}}
    result = plan_overlays(nets, seed004(**leases))
    ips = dict((e['name'], e['networks'][0]['ipv6_address']) for h in result.values() for e in h['endpoints']
               if e['networks'][0]['name'] == 'net1')
    assert ips == {'net1c1': 'fd00:1::2', 'net1c2': 'fd00:1::20', 'net1c3': 'fd00:1::3'}   # a lease is kept
    peer = overlay(result, 'host1', 'net1')['peers'][0]['endpoints'][0]
    assert (peer['name'], peer['ip'], peer['ipv6']) == ('net1c2', '10.0.1.3', 'fd00:1::20')
    fdb, neighbours = forwarding(overlay(result, 'host1', 'net1'))
    assert {'ip': 'fd00:1::20', 'mac': peer['mac']} in neighbours and len(neighbours) == 4
    # an IPv4-only overlay carries no IPv6 neighbours
    assert len(forwarding(overlay(plan_overlays(NETS, seed004()), 'host1', 'net1'))[1]) == 2
    with pytest.raises(InvalidInput, match=r'net1\).ipv6_subnet: required for an overlay with IPv6'):
        plan_overlays([dict(NETS[0], enable_ipv6=True)] + NETS[1:], seed004())
