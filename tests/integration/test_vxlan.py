"""VXLAN between namespaces joined by an underlay bridge, proved by packets."""

from helpers import converge, rejected, task

UNDERLAY = {'h1': '198.51.100.1', 'h2': '198.51.100.2', 'h3': '198.51.100.3'}


def _underlay(play):
    tasks = [task('bridge', name='ul', addresses=[])]
    for ns, ip in sorted(UNDERLAY.items()):
        tasks += [task('netns', name=ns),
                  task('veth', name='ul-' + ns, master='ul', peer='eth0', peer_namespace=ns,
                       peer_addresses=[ip + '/24'])]
    play(tasks, expect_rc=0)


def vtep(ns, vni, address, peers, **extra):
    args = dict(name='vx%d' % vni, namespace=ns, vni=vni, local=UNDERLAY[ns], dev='eth0',
                addresses=[address] if address else None, fdb=[{'dst': UNDERLAY[p]} for p in peers])
    args.update(extra)
    return task('vxlan', **args)


def test_endpoints_behind_same_vni_talk_other_vni_does_not(play, probe):
    """Each 'host' h1..h3 has a bridge with its VTEP and one endpoint namespace e1..e3 behind it."""
    _underlay(play)
    setup = []
    for index, (ns, vni, peers) in enumerate((('h1', 100, ['h2', 'h3']), ('h2', 100, ['h1']),
                                              ('h3', 200, ['h1', 'h2'])), start=1):
        setup += [task('bridge', name='br0', namespace=ns),
                  task('netns', name='e%d' % index),
                  task('veth', name='ve%d' % index, namespace=ns, master='br0', peer='eth0',
                       peer_namespace='e%d' % index, peer_addresses=['10.100.0.%d/24' % index], mtu=1450)]
    play(setup, expect_rc=0)
    converge(play, probe, [
        vtep('h1', 100, None, ['h2', 'h3'], master='br0'),
        vtep('h2', 100, None, ['h1'], master='br0'),
        vtep('h3', 200, None, ['h1', 'h2'], master='br0'),
    ])
    vx = probe.link('vx100', 'h1')
    assert vx['linkinfo']['info_data']['id'] == 100 and vx['linkinfo']['info_data']['learning'] is False
    assert vx['master'] == 'br0'
    assert probe.ping('e1', '10.100.0.2').returncode == 0                 # VNI 100 <-> VNI 100, across hosts
    assert probe.ping('e2', '10.100.0.1').returncode == 0
    assert probe.ping('e3', '10.100.0.1').returncode != 0                 # VNI 200 -> VNI 100: dropped
    assert probe.ping('e1', '10.100.0.3').returncode != 0


def test_static_entries_without_flooding_and_exclusive_lists(host, play, probe):
    _underlay(play)
    play([vtep('h1', 100, '10.100.0.1/24', ['h2']), vtep('h2', 100, '10.100.0.2/24', ['h1'])], expect_rc=0)
    mac = {ns: probe.link('vx100', ns)['address'] for ns in ('h1', 'h2')}
    # Docker's way: no flood entries, the remote endpoint's MAC -> VTEP and its ARP entry, both permanent.
    exact = [vtep('h1', 100, '10.100.0.1/24', [], exclusive=True,
                  fdb=[{'mac': mac['h2'], 'dst': UNDERLAY['h2']}],
                  neighbours=[{'ip': '10.100.0.2', 'mac': mac['h2']}]),
             vtep('h2', 100, '10.100.0.2/24', [], exclusive=True,
                  fdb=[{'mac': mac['h1'], 'dst': UNDERLAY['h1']}],
                  neighbours=[{'ip': '10.100.0.1', 'mac': mac['h1']}])]
    run = converge(play, probe, exact)[0]
    assert 'remove forwarding entry 00:00:00:00:00:00 -> 198.51.100.2' in ' '.join(run['result']['actions'])
    fdb = host.run(['bridge', '-n', 'h1', 'fdb', 'show', 'dev', 'vx100']).stdout
    assert '00:00:00:00:00:00' not in fdb and '%s dst 198.51.100.2' % mac['h2'] in fdb
    assert 'PERMANENT' in host.run(['ip', '-n', 'h1', 'neigh', 'show', 'dev', 'vx100']).stdout
    assert probe.ping('h1', '10.100.0.2').returncode == 0


def test_an_endpoint_that_moved_to_another_vtep_is_found_there_in_one_run(host, play, probe):
    """A unicast MAC has one VTEP: its entry is replaced in place (the kernel ignores a second VTEP
    appended, and removing the old entry after that would leave none); on a VTEP that is a bridge
    port, as an overlay's is, the entry stays the VTEP's own - none goes to the bridge."""
    _underlay(play)
    moved = '02:42:0a:64:00:09'
    play([task('bridge', name='br0', namespace='h1')], expect_rc=0)

    def h1(at):
        return vtep('h1', 100, None, [], master='br0', exclusive=True,
                    fdb=[{'mac': moved, 'dst': UNDERLAY[at]}], neighbours=[{'ip': '10.100.0.9', 'mac': moved}])
    converge(play, probe, [h1('h2')])
    run = converge(play, probe, [h1('h3')])[0]
    assert run['result']['actions'] == ['vx100 (in h1): move forwarding entry %s: 198.51.100.2 -> 198.51.100.3' % moved]
    fdb = host.run(['bridge', '-n', 'h1', 'fdb', 'show', 'dev', 'vx100']).stdout
    assert '%s dst 198.51.100.3 self permanent' % moved in fdb and '198.51.100.2' not in fdb, fdb
    assert '%s master br0' % moved not in fdb, fdb


def test_vni_change_recreates_and_says_so(play, probe):
    _underlay(play)
    play([vtep('h1', 100, '10.100.0.1/24', ['h2'])], expect_rc=0)
    changed = vtep('h1', 100, '10.100.0.1/24', ['h2'])
    changed['netplumb.container.vxlan']['vni'] = 101
    run = converge(play, probe, [changed])[0]
    assert 'cannot change in place' in run['result']['actions'][0] and 'vni 100 -> 101' in run['result']['actions'][0]
    assert run['result']['diff']['before']['vni'] == 100 and run['result']['diff']['after']['vni'] == 101
    assert probe.link('vx100', 'h1')['linkinfo']['info_data']['id'] == 101
    converge(play, probe, [task('vxlan', name='vx100', namespace='h1', state='absent')])
    assert probe.link('vx100', 'h1') is None


def test_bad_input_fails_before_any_change(play, probe):
    _underlay(play)
    base = dict(name='vx1', namespace='h1', vni=100)
    for args, words in ((dict(base, vni=0), ['vni', '0']), (dict(base, vni=2 ** 24), ['vni', str(2 ** 24)]),
                        (dict(base, dstport=70000), ['70000']),
                        (dict(base, fdb=[{'mac': '02:42', 'dst': '198.51.100.2'}]), ['02:42']),
                        (dict(base, fdb=[{'dst': '198.51.100.999'}]), ['198.51.100.999']),
                        (dict(base, neighbours=[{'ip': '10.0.0.5', 'mac': '01:00:5e:00:00:01'}]), ['multicast']),
                        (dict(base, namespace='nowhere'), ['nowhere']),
                        (dict(base, dev='eth9'), ['eth9']),
                        (dict(base, name='vx-name-too-long'), ['vx-name-too-long'])):
        rejected(play, probe, task('vxlan', **args), *words)
