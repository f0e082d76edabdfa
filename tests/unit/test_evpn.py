"""Overlays with control_plane evpn without hosts: the control plane (each host's own range, no
peers, --limit allowed), the model's refusals, the role's BGP arguments, and FRR's files as
bgp_evpn writes them (configuration, daemons, whose configuration is there)."""

import os
import subprocess
import sys

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.container.plugins.filter.network_plan import network_plan
from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._evpn import frr
from test_overlay import host, overlay, plan_overlays

EVPN = {'name': 'net1', 'subnet': '10.0.1.0/24', 'control_plane': 'evpn', 'vni': 101, 'ipv6_subnet': 'fd00:1::/64'}
RANGES = {'host1': '10.0.1.0/28', 'host2': '10.0.1.16/28', 'host3': '10.0.1.32/28'}


def evpn_hosts(endpoints=None, leases=None, ranges=None):
    """host1..3 with one endpoint each on net1, each with its own range."""
    hosts = []
    for index, name in enumerate(('host1', 'host2', 'host3')):
        eps = (endpoints or {}).get(name, [{'name': 'c' + name[-1], 'networks': ['net1']}])
        h = host(name, '198.51.100.1%d' % (index + 1), eps, leases=(leases or {}).get(name))
        h['networks'] = [dict(EVPN, driver='overlay', ip_range=(ranges or RANGES)[name])]
        hosts.append(h)
    return hosts


def address(result, host_name, endpoint, key='address'):
    return [a for e in result[host_name]['endpoints'] if e['name'] == endpoint for a in e['networks']][0][key]


def test_each_host_hands_out_from_its_own_range_and_gets_no_peers():
    result = plan_overlays([], evpn_hosts())
    assert [address(result, h, 'c' + h[-1]) for h in ('host1', 'host2', 'host3')] == ['10.0.1.2', '10.0.1.16', '10.0.1.32']
    # IPv6: the IPv4 address's offset in the IPv6 subnet, so no host asks another
    assert [address(result, h, 'c' + h[-1], 'ipv6_address') for h in ('host1', 'host2')] == ['fd00:1::2', 'fd00:1::10']
    net = overlay(result, 'host1', 'net1')
    assert net['peers'] == [] and net['control_plane'] == 'evpn' and net['local'] == '198.51.100.11'
    assert net['mtu'] == 1450
    # the plan of one host alone (a run with --limit) gives it the same addresses
    alone = plan_overlays([], evpn_hosts()[2:])
    assert address(alone, 'host3', 'c3') == '10.0.1.32'


def test_leases_in_the_hosts_range_are_kept_and_others_are_not():
    kept = plan_overlays([], evpn_hosts(leases={'host2': {'net1': {'c2': '10.0.1.20'}}}))
    assert address(kept, 'host2', 'c2') == '10.0.1.20'
    moved = plan_overlays([], evpn_hosts(leases={'host2': {'net1': {'c2': '10.0.1.3'}}}))   # host1's range
    assert address(moved, 'host2', 'c2') == '10.0.1.16'


def test_an_address_declared_on_another_host_is_never_handed_out():
    endpoints = {'host1': [{'name': 'c1', 'networks': [{'name': 'net1', 'address': '10.0.1.16'}]}]}
    result = plan_overlays([], evpn_hosts(endpoints=endpoints))
    assert address(result, 'host1', 'c1') == '10.0.1.16' and address(result, 'host2', 'c2') == '10.0.1.17'


@pytest.mark.parametrize('change, fragments', [
    (lambda hosts: hosts[1]['networks'][0].update(ip_range='10.0.1.0/27'),
     ['(net1).ip_range: 10.0.1.0/27 on host2 overlaps 10.0.1.0/28 on host1', 'a range of its own']),
    (lambda hosts: hosts[1]['networks'][0].update(ip_range=None), ['(net1).ip_range: required', 'control_plane evpn']),
    (lambda hosts: [h['networks'][0].update(vni=None) for h in hosts], ['(net1).vni: required', 'control_plane evpn']),
    (lambda hosts: hosts[2]['networks'][0].update(control_plane='static', ip_range=RANGES['host1']),
     ['declared differently on host1 and host3', "control_plane 'evpn' / 'static'"]),
])
def test_bad_evpn_declarations_fail_naming_the_value(change, fragments):
    hosts = evpn_hosts()
    change(hosts)
    with pytest.raises(InvalidInput) as error:
        plan_overlays([], hosts)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_a_control_plane_on_a_bridge_network_is_refused():
    hosts = evpn_hosts()
    hosts[0]['networks'].append({'name': 'web', 'control_plane': 'evpn'})
    with pytest.raises(InvalidInput) as error:
        plan_overlays([], hosts)
    assert 'networks[1] (web).control_plane: evpn - only overlay networks have a control plane' in str(error.value)


def hostvars(**extra):
    nets = [dict(EVPN, driver='overlay')]
    found = {}
    for index, name in enumerate(('host1', 'host2', 'host3')):
        found[name] = {'netplumb_networks': [dict(nets[0], ip_range=RANGES[name])],
                       'netplumb_endpoints': [{'name': 'c' + name[-1], 'networks': ['net1']}],
                       'netplumb_restore_at_boot': False,
                       'network_gathered': {'info': {
                           'underlay': [{'address': '198.51.100.1%d' % (index + 1), 'prefix': 24, 'device': 'eth0',
                                         'mtu': 1500}], 'default_device': 'eth0', 'frr': 'package'}}}
    for index, name in enumerate(('rr1', 'rr2')):
        found[name] = {'netplumb_restore_at_boot': False, 'netplumb_underlay_address': '198.51.100.2%d' % (index + 1),
                       'network_gathered': {'info': {
                           'underlay': [{'address': '198.51.100.2%d' % (index + 1), 'prefix': 24, 'device': 'eth0',
                                         'mtu': 1500}], 'default_device': 'eth0', 'frr': 'netplumb'}}}
    for name, values in extra.items():
        found[name].update(values)
    return found


def test_the_role_gives_vteps_and_reflectors_their_bgp_arguments_and_a_limited_run_only_its_host():
    everyone = ['host1', 'host2', 'host3', 'rr1', 'rr2']
    plan = network_plan(hostvars(), everyone, everyone, reflectors=['rr1', 'rr2'])
    assert plan['host1']['bgp'] == {'state': 'present', 'asn': 65000, 'router_id': '198.51.100.11', 'vtep': True,
                                    'reflectors': ['198.51.100.21', '198.51.100.22'], 'reflector': False,
                                    'static_vnis': []}
    assert plan['rr1']['bgp']['reflector'] and not plan['rr1']['bgp']['vtep']
    assert plan['rr1']['bgp']['cluster_id'] == plan['rr2']['bgp']['cluster_id'] == '198.51.100.21'
    assert plan['rr2']['bgp']['listen_range'] == '198.51.100.0/24'
    # --limit host3: allowed for an EVPN overlay, and host3's arguments are what the full run gives it
    alone = network_plan(hostvars(), ['host3'], everyone, reflectors=['rr1', 'rr2'])
    assert alone['host3'] == plan['host3']
    # a reflector whose address is known only from its facts cannot be left out of the run
    unknown = hostvars(rr2={'netplumb_underlay_address': None})
    with pytest.raises(AnsibleFilterError) as error:
        network_plan(unknown, ['host3'], everyone, reflectors=['rr1', 'rr2'])
    assert 'route reflector rr2 is not in this run' in str(error.value)
    with pytest.raises(AnsibleFilterError) as error:
        network_plan(hostvars(), everyone, everyone, reflectors=[])
    assert 'no route reflector' in str(error.value)


@pytest.mark.parametrize('extra, fragment', [
    ({'rr1': {'netplumb_evpn_cluster_id': 'one'}}, "host rr1: cluster_id: 'one' is not an IPv4 address (from netplumb_evpn_cluster_id)"),
    ({'host2': {'netplumb_evpn_asn': 0}}, 'host host2: asn: 0 is not an AS number (1..4294967295) (from netplumb_evpn_asn)'),
    ({'rr2': {'netplumb_evpn_listen_range': 'everyone'}}, "listen_range: 'everyone' is not an IPv4 network"),
])
def test_bad_evpn_variables_stop_the_plan_naming_the_variable(extra, fragment):
    everyone = ['host1', 'host2', 'host3', 'rr1', 'rr2']
    with pytest.raises(AnsibleFilterError) as error:
        network_plan(hostvars(**extra), everyone, everyone, reflectors=['rr1', 'rr2'])
    assert fragment in str(error.value)
    plan = network_plan(hostvars(host2={'netplumb_evpn_asn': 'big'}), everyone, everyone, reflectors=['rr1', 'rr2'])
    assert 'netplumb_evpn_asn' in plan['host2']['problem'] and 'big' in plan['host2']['problem']


@pytest.mark.parametrize('frr_seen, fragment', [
    ('router ospf', "host2: /etc/frr/frr.conf holds an FRR configuration netplumb did not write ('router ospf')"),
    (None, 'host2: /etc/frr/frr.conf is missing - FRR is not installed'),
])
def test_a_host_whose_frr_cannot_be_ours_stops_the_plan_before_any_host_changes(frr_seen, fragment):
    everyone = ['host1', 'host2', 'host3', 'rr1', 'rr2']
    facts = hostvars()
    facts['host2']['network_gathered']['info']['frr'] = frr_seen
    with pytest.raises(AnsibleFilterError) as error:
        network_plan(facts, everyone, everyone, reflectors=['rr1', 'rr2'])
    assert fragment in str(error.value)


PARAMS = dict(state='present', asn=65000, router_id='198.51.100.11', vtep=True, reflectors=['198.51.100.21', '198.51.100.22'],
              reflector=False, cluster_id=None, listen_range=None, static_vnis=[])


def test_a_vtep_peers_with_every_reflector_and_advertises_every_vni():
    text = frr.render(frr.check(PARAMS))
    assert text.startswith(frr.MARK)
    for line in (' neighbor 198.51.100.21 peer-group NETPLUMB-REFLECTORS', ' neighbor 198.51.100.22 peer-group '
                 'NETPLUMB-REFLECTORS', ' neighbor NETPLUMB-REFLECTORS update-source 198.51.100.11',
                 '  advertise-all-vni', ' bgp router-id 198.51.100.11', ' no bgp default ipv4-unicast'):
        assert line in text.splitlines()
    assert 'route-map' not in text and 'cluster-id' not in text and 'listen range' not in text


def test_a_reflector_listens_and_reflects_and_a_static_vni_never_leaves_its_host():
    text = frr.render(frr.check(dict(PARAMS, router_id='198.51.100.21', vtep=False, reflector=True,
                                     cluster_id='198.51.100.21', listen_range='198.51.100.7/24')))
    lines = text.splitlines()
    assert ' bgp cluster-id 198.51.100.21' in lines and ' bgp listen range 198.51.100.0/24 peer-group NETPLUMB-VTEPS' in lines
    assert '  neighbor NETPLUMB-VTEPS route-reflector-client' in lines and '  advertise-all-vni' not in lines
    assert ' neighbor 198.51.100.21 peer-group NETPLUMB-REFLECTORS' not in lines      # not with itself
    static = frr.render(frr.check(dict(PARAMS, static_vnis=[4097, 4096]))).splitlines()
    assert static[5:7] == ['bgp extcommunity-list standard NETPLUMB-STATIC-VNIS seq 5 permit rt 65000:4096',
                           'bgp extcommunity-list standard NETPLUMB-STATIC-VNIS seq 10 permit rt 65000:4097']
    assert '  neighbor NETPLUMB-REFLECTORS route-map NETPLUMB-NOT-STATIC out' in static


@pytest.mark.parametrize('change, fragment', [
    ({'asn': 0}, 'asn: 0 is not an AS number'),
    ({'router_id': 'host1'}, "router_id: 'host1' is not an IPv4 address"),
    ({'reflectors': ['198.51.100.21', '$(reboot)']}, "reflectors[1]: '$(reboot)' is not an IPv4 address"),
    ({'reflectors': []}, 'reflectors: a VTEP needs at least one route reflector'),
    ({'reflector': True, 'cluster_id': '198.51.100.21'}, 'listen_range: required on a route reflector'),
    ({'reflector': True, 'cluster_id': '198.51.100.21', 'listen_range': 'any'}, "listen_range: 'any' is not an IPv4 network"),
    ({'static_vnis': [0]}, 'static_vnis[0]: 0 is not a VXLAN network identifier'),
])
def test_bad_bgp_arguments_fail_naming_the_value(change, fragment):
    with pytest.raises(InvalidInput) as error:
        frr.check(dict(PARAMS, **change))
    assert fragment in str(error.value)


PACKAGE_CONF = ('# default to using syslog. /etc/rsyslog.d/45-frr.conf places the log in\n# /var/log/frr/frr.log\n'
                'log syslog informational\n')


def test_whose_configuration_is_there():
    assert frr.owner(None) is None
    assert frr.owner(PACKAGE_CONF) == 'package'
    assert frr.owner(frr.render(frr.check(PARAMS))) == 'netplumb'
    assert frr.owner(PACKAGE_CONF + 'router ospf\n network 10.0.0.0/8 area 0\n') == 'router ospf'
    frr.refuse_foreign(PACKAGE_CONF, frr.CONFIG)
    with pytest.raises(Conflict) as error:
        frr.refuse_foreign('hostname edge\nrouter bgp 64512\n', frr.CONFIG)
    assert "/etc/frr/frr.conf holds an FRR configuration netplumb did not write ('hostname edge')" in str(error.value)


def test_daemons_gets_bgpd_and_zebra_watching_namespaces_and_back():
    shipped = 'bgpd=no\nospfd=no\nvtysh_enable=yes\nzebra_options="  -A 127.0.0.1 -s 90000000"\nbgpd_options="   -A 127.0.0.1"\n'
    ours = frr.daemons(shipped, True)
    assert 'bgpd=yes\n' in ours and 'zebra_options="  -A 127.0.0.1 -s 90000000 -n"\n' in ours and 'ospfd=no\n' in ours
    assert frr.daemons(ours, True) == ours
    assert frr.daemons(ours, False) == shipped.replace('zebra_options="  -A', 'zebra_options="  -A')


SHIPPED_DAEMONS = 'bgpd=no\nvtysh_enable=yes\nzebra_options="  -A 127.0.0.1 -s 90000000"\n'


@pytest.fixture
def frr_host(tmp_path, monkeypatch):
    """FRR's files under tmp_path and systemctl / frr-reload.py recorded, not run: (module, calls, paths)."""
    from ansible_collections.netplumb.container.plugins.modules import bgp_evpn
    paths = dict((name, str(tmp_path / name)) for name in ('frr.conf', 'daemons', 'drop-in', 'reload', 'state'))
    with open(paths['frr.conf'], 'w') as handle:
        handle.write(PACKAGE_CONF)
    with open(paths['daemons'], 'w') as handle:
        handle.write(SHIPPED_DAEMONS)
    open(paths['reload'], 'w').close()
    for name, key in (('CONFIG', 'frr.conf'), ('DAEMONS', 'daemons'), ('DROP_IN', 'drop-in'), ('RELOAD', 'reload')):
        monkeypatch.setattr(frr, name, paths[key])
    calls, status = [], {'active': 3, 'enabled': 1}

    def run(argv, **_streams):
        calls.append(argv)
        rc = 0
        if argv[:2] == ['systemctl', 'is-active']:
            rc = status['active']
        elif argv[:2] == ['systemctl', 'is-enabled']:
            rc = status['enabled']
        elif argv[:2] == ['systemctl', 'restart'] or argv[:2] == ['systemctl', 'enable']:
            status['active' if 'restart' in argv else 'enabled'] = 0
        return subprocess.CompletedProcess(argv, rc, '', '')
    from ansible_collections.netplumb.container.plugins.module_utils import _command
    monkeypatch.setattr(_command, 'run', run)      # the engine's one way to run a program
    isdir = os.path.isdir
    monkeypatch.setattr(bgp_evpn.os.path, 'isdir', lambda path: path == '/run/systemd/system' or isdir(path))
    return bgp_evpn, calls, paths


def apply(module, params, check=False):
    from ansible_collections.netplumb.container.plugins.module_utils._runner import Run, perform
    change, applied, step, error = perform(Run(None, check), module.reconcile, params)
    assert error is None, (step, error)
    return change


def test_bgp_evpn_starts_frr_then_reloads_it_and_check_mode_writes_nothing(frr_host):
    module, calls, paths = frr_host
    params = dict(PARAMS, state_dir=paths['state'])
    before = dict((name, open(path).read()) for name, path in paths.items() if os.path.isfile(path))
    check = apply(module, params, check=True)
    assert check.actions == ['%s: write' % paths['daemons'], '%s: write' % paths['drop-in'], 'systemd: reload units',
                             '%s: write' % paths['frr.conf'], 'frr: enable', 'frr: start']
    assert dict((name, open(path).read()) for name, path in paths.items() if os.path.isfile(path)) == before
    assert not os.path.exists(paths['state']) and all(c[1] in ('is-active', 'is-enabled') for c in calls)
    assert '+router bgp 65000' not in check.before and 'router bgp 65000' in check.after
    apply(module, params)
    assert ['systemctl', 'restart', 'frr.service'] in calls and 'zebra_options="  -A 127.0.0.1 -s 90000000 -n"' in \
        open(paths['daemons']).read()
    assert apply(module, params).actions == []                                   # idempotent
    calls[:] = []
    changed = apply(module, dict(params, reflectors=['198.51.100.21']))
    assert changed.actions == ['%s: write' % paths['frr.conf'], 'frr: reload with frr-reload.py (sessions stay up)']
    assert [sys.executable, paths['reload'], '--reload', paths['frr.conf']] in calls
    assert ['systemctl', 'restart', 'frr.service'] not in calls                  # sessions stay up
    gone = apply(module, dict(params, state='absent'))
    assert 'frr: stop and disable' in gone.actions and open(paths['daemons']).read() == SHIPPED_DAEMONS


def test_bgp_evpn_refuses_a_foreign_configuration_before_any_change(frr_host):
    module, calls, paths = frr_host
    with open(paths['frr.conf'], 'w') as handle:
        handle.write('router ospf\n')
    from ansible_collections.netplumb.container.plugins.module_utils._runner import Run, perform
    change, applied, step, error = perform(Run(None, False), module.reconcile, dict(PARAMS, state_dir=paths['state']))
    assert isinstance(error, Conflict) and not applied and "('router ospf')" in str(error)
    assert open(paths['daemons']).read() == SHIPPED_DAEMONS
