"""The controllers users run, proved on lab machines of both Debian releases (host1 Debian 12, host2
Debian 13) by packets:

- the oldest ansible-core we support, 2.15 (requires_ansible), from a virtual environment of this
  machine's Python 3.11, builds a bridge network with a published port and an overlay across both;
- the newest, 2.21, which needs Python 3.12 or later, runs in a Debian 13 lab machine (Python 3.13,
  a virtual environment installed from wheels fetched here: machines reach no network). It builds
  and installs the collection, finds nothing to change on what 2.15 built (check mode and a real
  run), adds an endpoint that the others reach by name, and changes nothing on a second run;
- the newest ansible-test sanity is clean on the collection (Galaxy's and certified content's).

ansible-core 2.19, the tests' own, is proved by everything else. The Makefile prepares both
(``make cores``) and names them in NETPLUMB_OLDEST_CORE and NETPLUMB_NEWEST_CORE_WHEELS."""

import io
import os
import re
import subprocess
import tarfile

import pytest
import yaml

from conftest import COLLECTIONS_PATH, ROOT

pytestmark = pytest.mark.any_interpreter     # what varies here is the controller, not the hosts' pyroute2

OLDEST = os.environ.get('NETPLUMB_OLDEST_CORE', '')           # a virtual environment with ansible-core 2.15
NEWEST_WHEELS = os.environ.get('NETPLUMB_NEWEST_CORE_WHEELS', '')
NEWEST = '/opt/ansible-core'                                  # its virtual environment, in the controller machine
SOURCE = '/root/src/ansible_collections/netplumb/container'   # the collection's files, in the controller machine

NETWORKS = [{'name': 'new_network', 'subnet': '172.18.0.0/16'}, {'name': 'net1', 'driver': 'overlay', 'subnet': '10.0.1.0/24'}]
ENDPOINTS = {'host1': [{'name': 'web1', 'networks': ['new_network', 'net1'], 'published': ['8080:80']}],
             'host2': [{'name': 'web2', 'networks': ['net1']}]}
MORE = dict(ENDPOINTS, host2=ENDPOINTS['host2'] + [{'name': 'web3', 'networks': ['net1']}])


@pytest.fixture
def machines(lab):
    if not (os.path.isdir(OLDEST) and os.path.isdir(NEWEST_WHEELS)):
        pytest.fail('NETPLUMB_OLDEST_CORE and NETPLUMB_NEWEST_CORE_WHEELS name no directories: run "make cores"')
    lab(lab_hosts=['host1', 'host2', 'controller'], lab_kind='machine', lab_outside=True,
        lab_releases={'host2': 'trixie', 'controller': 'trixie'})
    return lab


def ssh(lab, host, command, stdin=None, check=True, timeout=900):
    """A fixed command line on a lab machine (nothing declared is ever part of one)."""
    result = subprocess.run(['ssh', '-F', os.path.join(lab.dir, 'ssh_config'), host, command], input=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    output = result.stdout.decode(errors='replace')
    assert not check or result.returncode == 0, '%s: %s\n%s' % (host, command, output[-4000:])
    return result.returncode, output


def tar(files):
    """name -> bytes, as a tar archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as archive:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def tree(directory):
    return dict((os.path.relpath(os.path.join(d, n), directory), open(os.path.join(d, n), 'rb').read())
                for d, _dirs, names in os.walk(directory) for n in names)


def collection_files():
    """What is in git and in the working tree, as ansible-galaxy builds it (the lab is another collection)."""
    names = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT, check=True,
                           stdout=subprocess.PIPE, universal_newlines=True).stdout.split('\n')
    return dict((name, open(os.path.join(ROOT, name), 'rb').read()) for name in names
                if name and not name.startswith('lab/') and os.path.isfile(os.path.join(ROOT, name)))


def inventory_vars(endpoints):
    """group_vars and host_vars of a run, as files: the same for both controllers."""
    files = {'group_vars/all.yml': yaml.safe_dump({'netplumb_networks': NETWORKS}).encode()}
    for host, declared in endpoints.items():
        files['host_vars/%s.yml' % host] = yaml.safe_dump({'netplumb_endpoints': declared}).encode()
    return files


def write(directory, files):
    for name, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(directory, name)), exist_ok=True)
        with open(os.path.join(directory, name), 'wb') as handle:
            handle.write(data)


def recap(output):
    """host -> changed count, from the play recap."""
    return dict((host, int(changed)) for host, changed in re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', output, re.M))


def oldest(lab, tmp_path, *options):
    inventory = str(tmp_path / 'oldest')
    lab_inventory = yaml.safe_load(open(os.path.join(lab.dir, 'inventory.yml')))['all']['children']['lab']
    hosts = {'all': {'hosts': dict((h, lab_inventory['hosts'][h]) for h in ('host1', 'host2')), 'vars': lab_inventory['vars']}}
    write(inventory, dict(inventory_vars(ENDPOINTS), **{'hosts.yml': yaml.safe_dump(hosts).encode()}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_NOCOLOR='1',
               PATH=os.path.join(OLDEST, 'bin') + ':' + os.environ['PATH'])
    result = subprocess.run([os.path.join(OLDEST, 'bin', 'ansible-playbook'), '-i', inventory,
                             os.path.join(ROOT, 'playbooks', 'site.yml')] + list(options),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                            check=False, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout


def newest(lab, endpoints, *options):
    ssh(lab, 'controller', 'rm -rf /root/run && mkdir -p /root/run && tar -x -C /root/run && cp /root/hosts.yml /root/run/',
        stdin=tar(inventory_vars(endpoints)))
    # the installed collection's playbook, by its name (not the copy of the source beside it)
    return ssh(lab, 'controller', 'ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=false %s/bin/ansible-playbook '
               '-i /root/run netplumb.container.site %s' % (NEWEST, ' '.join(options)))[1]


def install_newest(lab):
    """The newest ansible-core in a virtual environment of the controller, as a user installs it (pip,
    here from the wheels fetched on this machine), the collection built and installed with it, and an
    inventory that reaches host1 and host2 on the underlay with the lab's key."""
    ssh(lab, 'controller', 'mkdir -p /opt/wheels /root/.ssh /root/src/ansible_collections/netplumb/container && '
        'tar -x -C /opt/wheels', stdin=tar(tree(NEWEST_WHEELS)))
    ssh(lab, 'controller', 'tar -x -C %s' % SOURCE, stdin=tar(collection_files()))
    key = open(os.path.join(lab.dir, 'id_ed25519'), 'rb').read()
    addresses = yaml.safe_load(open(os.path.join(lab.dir, 'inventory.yml')))['all']['children']['lab']['hosts']
    hosts = {'all': {'hosts': dict((h, {'ansible_host': addresses[h]['lab_underlay_address'].split('/')[0]})
                                   for h in ('host1', 'host2')),
                     'vars': {'ansible_user': 'root', 'ansible_python_interpreter': '/usr/bin/python3',
                              'netplumb_restore_at_boot': True}}}
    ssh(lab, 'controller', 'tar -x -C /root', stdin=tar({'.ssh/id_ed25519': key, 'hosts.yml': yaml.safe_dump(hosts).encode(),
                                                        '.config/pip/pip.conf': b'[global]\nno-index = true\nfind-links = /opt/wheels\n'}))
    core = [n.split('-')[1] for n in os.listdir(NEWEST_WHEELS) if n.startswith('ansible_core-')][0]
    ssh(lab, 'controller', 'python3 -m venv %s && %s/bin/pip install -q ansible-core==%s' % (NEWEST, NEWEST, core))
    version = ssh(lab, 'controller', '%s/bin/ansible --version' % NEWEST)[1]
    built = ssh(lab, 'controller', 'cd /root && %s/bin/ansible-galaxy collection build --force %s && '
                '%s/bin/ansible-galaxy collection install --force netplumb-container-*.tar.gz' % (NEWEST, SOURCE, NEWEST))[1]
    return version, built


def ping(lab, host, namespace, target):
    rc, output = ssh(lab, host, 'ip netns exec %s ping -c 1 -W 2 -q %s' % (namespace, target), check=False)
    assert rc == 0, '%s: %s cannot reach %s:\n%s%s' % (host, namespace, target, output, ssh(
        lab, host, 'ip netns exec %s getent hosts %s; ip -n %s addr; ip -n %s neigh' % (namespace, target, namespace, namespace),
        check=False)[1])
    return True


def underlay(lab, host):
    hosts = yaml.safe_load(open(os.path.join(lab.dir, 'inventory.yml')))['all']['children']['lab']['hosts']
    return hosts[host]['lab_underlay_address'].split('/')[0]


def test_the_oldest_and_the_newest_ansible_core_build_the_same_networks(machines, tmp_path):
    lab = machines
    assert 'core 2.15' in subprocess.run([os.path.join(OLDEST, 'bin', 'ansible'), '--version'], check=True,
                                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    first = oldest(lab, tmp_path)
    assert recap(first) == {'host1': 1, 'host2': 1}, first[-3000:]
    assert ping(lab, 'host1', 'web1', 'web2') and ping(lab, 'host2', 'web2', 'web1')        # overlay, by name
    tcp = {'tcp.py': open(os.path.join(ROOT, 'tests', 'lib', 'tcp.py'), 'rb').read()}
    for host in ('host1', 'host2'):
        ssh(lab, host, 'tar -x -C /root', stdin=tar(tcp))
    ssh(lab, 'host1', 'ip netns exec web1 python3 /root/tcp.py serve 80 /root/peers </dev/null >/dev/null 2>&1 &')
    assert ssh(lab, 'host2', 'sleep 0.5; python3 /root/tcp.py connect %s 8080' % underlay(lab, 'host1'), check=False)[0] == 0
    assert ssh(lab, 'host1', 'cat /root/peers')[1].split() == [underlay(lab, 'host2')]   # published; the client's address kept

    version, built = install_newest(lab)
    assert 'core 2.21' in version and 'python version = 3.13' in version, version
    assert 'installed successfully' in built, built
    check = newest(lab, ENDPOINTS, '--check', '--diff')
    assert recap(check) == {'host1': 0, 'host2': 0}, check[-3000:]      # what 2.15 built is what 2.21 wants
    again = newest(lab, ENDPOINTS)
    assert recap(again) == {'host1': 0, 'host2': 0}, again[-3000:]
    more = newest(lab, MORE)
    assert recap(more)['host2'] == 1, more[-3000:]                       # web3
    assert ping(lab, 'host1', 'web1', 'web3') and ping(lab, 'host2', 'web3', 'web1')
    last = newest(lab, MORE)
    assert recap(last) == {'host1': 0, 'host2': 0}, last[-3000:]


def test_the_newest_ansible_test_sanity_is_clean(machines):
    lab = machines
    install_newest(lab)
    pip = open(os.path.join(NEWEST_WHEELS, 'pip-version')).read().strip()
    # ansible-test bootstraps pip in its virtual environments with a script it downloads; the stand-in
    # installs the pinned pip from the wheels instead (tools/ansible_test_get_pip.py, as make sanity)
    ssh(lab, 'controller', 'tar -x -C /root', stdin=tar({
        '.ansible/test/cache/get_pip_%s.py' % pip.replace('.', '_'):
            open(os.path.join(ROOT, 'tools', 'ansible_test_get_pip.py'), 'rb').read()}))
    rc, output = ssh(lab, 'controller', 'cd %s && %s/bin/ansible-test sanity --local --requirements --python 3.13 '
                     '--color no 2>&1' % (SOURCE, NEWEST), check=False, timeout=1500)
    assert rc == 0 and 'ERROR' not in output, output[-6000:]
    assert 'Running sanity test "validate-modules"' in output and 'Running sanity test "pylint"' in output
