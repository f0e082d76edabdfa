"""Rolling updates, hosts that are down, moves: the controller's plan never takes a host it has no
reading of for one that holds nothing, holds back what a down host spans, and keeps an endpoint's
address when it moves to another host. Pure: hostvars as the network role leaves them."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.container.plugins.filter.network_plan import network_plan
from ansible_collections.netplumb.container.plugins.filter.network_unread import network_unread
from ansible_collections.netplumb.container.plugins.module_utils._topology.hold import hold_back
from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import check_arguments

HOSTS = ['host1', 'host2', 'host3']
LAN = {'name': 'lan', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24', 'gateway': '198.51.100.1',
       'ip_range': '198.51.100.128/26'}
NET1 = {'name': 'net1', 'driver': 'overlay', 'subnet': '10.0.1.0/24'}
BRIDGE = {'name': 'new_network', 'subnet': '172.18.0.0/16'}


def reading(index, leases=None):
    return {'underlay': [{'address': '198.51.100.1%d' % index, 'prefix': 24, 'device': 'eth0', 'mtu': 1500}],
            'default_device': 'eth0', 'leases': leases or {}, 'networks': {}, 'frr': None}


def world(endpoints, leases=None, read=tuple(HOSTS), run='r', networks=(BRIDGE, NET1, LAN)):
    """hostvars of three hosts declaring ``networks``, ``endpoints`` {host: [endpoint]}; the hosts
    of ``read`` hold a reading of run ``run`` (with their ``leases``), as the role keeps it."""
    found = {}
    for index, name in enumerate(HOSTS, start=1):
        facts = {'netplumb_networks': [dict(n) for n in networks], 'netplumb_endpoints': endpoints.get(name, []),
                 'netplumb_restore_at_boot': False}
        if name in read:
            info = reading(index, (leases or {}).get(name))
            facts['network_gathered'] = {'run': run, 'info': info}
            facts['network_info'] = info        # what the role registered before it kept readings per run
        found[name] = facts
    return found


def on(network, *names):
    return [{'name': name, 'networks': [network]} for name in names]


def address(plan, host, endpoint, network):
    for ep in plan[host]['arguments']['endpoints']:
        if ep['name'] == endpoint:
            return [a for a in ep['networks'] if isinstance(a, dict) and a['name'] == network][0]['address']
    raise KeyError(endpoint)


LAN_LEASES = {'host1': {'lan': {'m1': '198.51.100.128'}}, 'host2': {'lan': {'m2': '198.51.100.129'}},
              'host3': {'lan': {'m3': '198.51.100.130'}}}


def test_a_batch_never_hands_out_the_lan_addresses_of_hosts_it_did_not_read():
    """The duplicate found with serial: 1 - host1's batch read only host1, and its two new endpoints
    got the addresses of host2's and host3's. Now the hosts it has no reading of are down: the LAN
    they declare is held back, named with them and why; nothing is handed out."""
    endpoints = {'host1': on('lan', 'm1', 'm1b', 'm1c'), 'host2': on('lan', 'm2'), 'host3': on('lan', 'm3')}
    plan = network_plan(world(endpoints, LAN_LEASES, read=['host1']), HOSTS, HOSTS, run='r')
    arguments = plan['host1']['arguments']
    assert plan['host1']['problem'] is None and arguments['hold'] == ['lan']
    # what the module makes of it: the LAN as host1's last change left it, the new endpoints waiting
    then = {'networks': [n for n in arguments['networks'] if n['name'] == 'lan'],
            'endpoints': [{'name': 'm1', 'networks': [{'name': 'lan', 'address': '198.51.100.128'}]}]}
    held, waiting = hold_back(dict(arguments, hold=['lan']), then)
    assert waiting == ['m1b', 'm1c'] and [e['name'] for e in held['endpoints']] == ['m1']
    assert plan['host1']['held'] == ['network lan is held back as the last change left it: host2 could not be read '
                                     'in this run (%s); host3 could not be read in this run (%s)' % ((
                                         plan['host2']['down'].split('(', 1)[1].rsplit(')', 1)[0],) * 2)]
    assert 'a serial batch is no reason' in plan['host2']['down'] and 'run again when it is back' in plan['host2']['down']
    assert plan['host2']['problem'] is None and plan['host2']['arguments'] is None
    # with every host read (what the role's first batch does), the new endpoints get free addresses
    everyone = network_plan(world(endpoints, LAN_LEASES), HOSTS, HOSTS, run='r')
    assert [address(everyone, 'host1', ep, 'lan') for ep in ('m1', 'm1b', 'm1c')] == [
        '198.51.100.128', '198.51.100.131', '198.51.100.132']
    assert 'hold' not in everyone['host1']['arguments'] and everyone['host1']['held'] == []


def test_a_reading_of_another_run_is_no_reading():
    """A later play of the same playbook, or a fact cache: only this run's reading counts."""
    endpoints = {'host1': on('lan', 'm1'), 'host2': on('lan', 'm2')}
    plan = network_plan(world(endpoints, LAN_LEASES, run='r0'), HOSTS, HOSTS, run='r')
    assert plan['host1']['down'] and plan['host2']['down'] and plan['host3']['down']


def test_a_static_overlay_without_a_reading_is_held_not_given_wrong_underlay_advice():
    """Before: 'cannot tell its underlay address among no IPv4 address; set netplumb_underlay_address'
    for a host that has one but was not read; and with the address declared, 'it has none'."""
    endpoints = dict((h, on('net1', 'web%s' % h[-1])) for h in HOSTS)
    for declared in ({}, {'netplumb_underlay_address': '198.51.100.12'}):
        hostvars = world(endpoints, read=['host1', 'host3'], networks=(BRIDGE, NET1))
        hostvars['host2'].update(declared)
        plan = network_plan(hostvars, HOSTS, HOSTS, run='r')
        assert plan['host1']['arguments']['hold'] == ['net1'] and plan['host3']['arguments']['hold'] == ['net1']
        assert 'host2 could not be read' in plan['host1']['held'][0]


def test_a_host_that_has_no_part_of_a_network_does_not_hold_it_back():
    """host3 is down with only a bridge network and an overlay it has no endpoint on: nothing is
    held; a LAN it declares is held even with no endpoint declared (old ones may still be on the wire)."""
    endpoints = {'host1': on('net1', 'web1') + on('new_network', 'n1'), 'host2': on('net1', 'web2')}
    plan = network_plan(world(endpoints, read=['host1', 'host2'], networks=(BRIDGE, NET1)), HOSTS, HOSTS, run='r')
    assert 'hold' not in plan['host1']['arguments'] and plan['host3']['down']
    plan = network_plan(world(endpoints, read=['host1', 'host2']), HOSTS, HOSTS, run='r')
    assert plan['host1']['arguments']['hold'] == ['lan']


def test_all_or_nothing_stops_the_plan_for_a_host_that_is_down():
    endpoints = {'host1': on('new_network', 'n1')}
    with pytest.raises(AnsibleFilterError) as error:
        network_plan(world(endpoints, read=['host1', 'host2']), HOSTS, HOSTS, run='r', all_or_nothing=True)
    assert 'host3 could not be read in this run' in str(error.value) and 'netplumb_all_or_nothing is true' in str(
        error.value)
    with pytest.raises(AnsibleFilterError) as error:
        network_plan(world(endpoints), HOSTS, HOSTS, run='r', all_or_nothing='sometimes')
    assert 'netplumb_all_or_nothing' in str(error.value)


def test_a_limited_run_names_the_network_the_host_it_leaves_out_and_what_to_do():
    endpoints = {'host1': on('lan', 'm1'), 'host2': on('lan', 'm2')}
    with pytest.raises(AnsibleFilterError) as error:
        network_plan(world(endpoints), ['host1'], HOSTS, run='r')
    message = str(error.value)
    assert 'network lan also spans host host2, which is not in this run (a --limit, or one slice of a sliced AWX job' in \
        message and 'by two runs at once' in message and 'serial batches do' in message


def test_a_down_reflector_is_named_with_why():
    hostvars = world({}, read=['host1'], networks=())
    hostvars['host2']['network_gathered'] = {'run': 'r', 'down': 'unreachable: Connection refused'}
    hostvars['host1']['netplumb_networks'] = [{'name': 'big', 'driver': 'overlay', 'control_plane': 'evpn', 'vni': 200,
                                               'subnet': '10.2.0.0/16', 'ip_range': '10.2.1.0/24'}]
    hostvars['host1']['netplumb_endpoints'] = on('big', 'e1')
    hostvars['host1']['network_gathered']['info']['frr'] = 'package'
    with pytest.raises(AnsibleFilterError) as error:
        network_plan(hostvars, ['host1', 'host2'], ['host1', 'host2'], run='r', reflectors=['host2'])
    assert 'route reflector host2 could not be read in this run (unreachable: Connection refused)' in str(error.value)


def test_moved_endpoints_keep_their_addresses_and_left_addresses_wait_a_run():
    """web1 moves from host1 to host2 (a static overlay); m2 and m3 swap hosts (a LAN): each keeps
    its address, read from the host it left. m9 left host1: its address is not handed out while
    host1 may still hold it (in a rolling update, host1 applies in a later batch)."""
    leases = {'host1': {'net1': {'web1': '10.0.1.2'}, 'lan': {'m1': '198.51.100.128', 'm9': '198.51.100.131'}},
              'host2': {'net1': {'web2': '10.0.1.3'}, 'lan': {'m2': '198.51.100.129'}},
              'host3': {'net1': {'web3': '10.0.1.4'}, 'lan': {'m3': '198.51.100.130'}}}
    endpoints = {'host1': on('lan', 'm1'), 'host2': on('net1', 'web2', 'web1') + on('lan', 'm3'),
                 'host3': on('net1', 'web3') + on('lan', 'm2', 'm4')}
    plan = network_plan(world(endpoints, leases), HOSTS, HOSTS, run='r')
    assert address(plan, 'host2', 'web1', 'net1') == '10.0.1.2'
    assert (address(plan, 'host2', 'm3', 'lan'), address(plan, 'host3', 'm2', 'lan')) == (
        '198.51.100.130', '198.51.100.129')
    assert address(plan, 'host3', 'm4', 'lan') == '198.51.100.132'      # not m9's .131
    # host3 finds web1 at host2 in the same run
    net1 = [n for n in plan['host3']['arguments']['networks'] if n['name'] == 'net1'][0]
    assert [ep['name'] for p in net1['peers'] if p['vtep'] == '198.51.100.12' for ep in p['endpoints']] == ['web2', 'web1']


def test_the_hosts_to_read_by_delegation():
    hostvars = world({'host1': on('new_network', 'n1')}, read=['host1'], networks=())
    hostvars['host2']['netplumb_networks'] = [dict(LAN)]
    hostvars['host3']['netplumb_networks'] = [dict(BRIDGE)]
    assert network_unread(hostvars, HOSTS, 'r') == ['host2']
    assert network_unread(hostvars, HOSTS, 'r', reflectors=['host3']) == ['host2', 'host3']
    assert network_unread(hostvars, HOSTS, 'r', all_or_nothing=True) == ['host2', 'host3']
    assert network_unread(hostvars, HOSTS, 'r2', all_or_nothing=True) == HOSTS


def validated(networks, endpoints, hold=()):
    params, problem = check_arguments({'networks': networks, 'endpoints': endpoints, 'hold': list(hold)})
    assert problem is None, problem
    return params


def test_a_held_network_and_its_endpoints_stay_as_the_last_change_left_them():
    then = validated([dict(BRIDGE), dict(NET1, peers=[{'vtep': '198.51.100.13', 'endpoints': []}])],
                     [{'name': 'web1', 'networks': [{'name': 'net1', 'address': '10.0.1.2'}]},
                      {'name': 'gone', 'networks': [{'name': 'net1', 'address': '10.0.1.9'}]},
                      {'name': 'n1', 'networks': ['new_network']}])
    now = validated([dict(BRIDGE), dict(NET1, mtu=1400)],
                    [{'name': 'web1', 'networks': [{'name': 'net1', 'address': '10.0.1.7'}, 'new_network']},
                     {'name': 'web4', 'networks': [{'name': 'net1', 'address': '10.0.1.8'}]},
                     {'name': 'n1', 'networks': ['new_network']}, {'name': 'n2', 'networks': ['new_network']}],
                    hold=['net1'])
    held, waiting = hold_back(now, then)
    assert held['hold'] == [] and waiting == ['web4']
    net1 = [n for n in then['networks'] if n['name'] == 'net1'][0]
    assert [n for n in held['networks'] if n['name'] == 'net1'] == [net1]
    by_name = dict((e['name'], e) for e in held['endpoints'])
    assert sorted(by_name) == ['gone', 'n1', 'n2', 'web1']        # web4 waits; gone stays with the network
    assert by_name['web1'] == then['endpoints'][0] and by_name['n2']['networks'] == ['new_network']
    # nothing held: the arguments as they are
    assert hold_back(dict(now, hold=[]), then) == (dict(now, hold=[]), [])
    # a held network the host never had: not made, and its endpoints wait
    fresh, waiting = hold_back(now, {})
    assert [n['name'] for n in fresh['networks']] == ['new_network'] and waiting == ['web1', 'web4']
