# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Labs of virtual hosts (``_vhost``) and lab machines (``_machine``) on one Linux machine,
for tests and demos: their plan, their state file, and how they are wired and destroyed.

Hosts of a lab are joined by an underlay switch: a bridge in a namespace of its own, with an
"outside world" at the first address of the outside network; each host runs an sshd on its
own loopback. Nothing is added to the machine's own network namespace.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import json
import os
import shutil
import subprocess

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput, KernelError
from ansible_collections.netplumb.lab.plugins.module_utils import _machine
from ansible_collections.netplumb.lab.plugins.module_utils._vhost import (
    VirtualHost, kill_and_wait, lab_processes, same_processes, start_time)

OUTSIDE_NETWORK = '203.0.113.0/24'        # the "Internet" stand-in (TEST-NET-3)


def host_addresses(underlay, count, taken=()):
    """Underlay addresses for hosts: from .11 up (.1 is the outside world), skipping taken ones."""
    network = ipaddress.ip_network(underlay)
    free = [ip for ip in list(network.hosts())[10:-1] if str(ip) not in taken]     # the last: the switch (machines)
    if len(free) < count:
        raise InvalidInput('underlay: %s has room for %d more hosts, %d asked' % (underlay, len(free), count))
    return ['%s/%d' % (ip, network.prefixlen) for ip in free[:count]]


def plan_lab(want, state):
    """Which hosts to create and destroy. ``state``: what the lab's state file records,
    with dead holders already removed; ``want``: name, hosts (ordered), underlay, outside."""
    if state and state.get('underlay') not in (None, want['underlay']):
        raise InvalidInput('underlay: the lab %s runs on %s; destroy it before changing the underlay to %s'
                           % (want['name'], state['underlay'], want['underlay']))
    have = dict((state or {}).get('hosts', {}))
    create = [h for h in want['hosts'] if h not in have]
    remove = sorted(h for h in have if h not in want['hosts'])
    taken = set(have[h]['address'].split('/')[0] for h in have if h not in remove)
    addresses = dict(zip(create, host_addresses(want['underlay'], len(create), taken)))
    return {
        'create': create,
        'remove': remove,
        'addresses': addresses,
        'switch': not (state or {}).get('switch'),
        'outside': bool(want['outside']) and not (state or {}).get('outside'),
        'outside_remove': not want['outside'] and bool((state or {}).get('outside')),
    }


class Lab(object):
    """A lab's state lives in ``<dir>/lab.json``: holder PIDs, addresses, underlay."""

    def __init__(self, name, directory):
        self.name = name
        self.dir = directory
        self.state_file = os.path.join(directory, 'lab.json')

    # ---- state

    def load(self):
        """The recorded state with dead holders dropped, or None."""
        try:
            with open(self.state_file) as handle:
                state = json.load(handle)
        except IOError:
            return None
        except ValueError as error:
            raise InvalidInput('lab %s: state file %s is corrupt (%s); run with state=absent to clean up'
                               % (self.name, self.state_file, error))
        for role in ('switch', 'outside'):
            if state.get(role) and not self._holder(role, state[role]).alive():
                state[role] = None
        hosts = dict(state.get('stale') or {}, **state.get('hosts', {}))
        # the hosts' underlay ports die with the switch: they are made anew
        state['hosts'] = dict((h, v) for h, v in hosts.items() if state.get('switch') and self._holder(h, v).alive())
        # hosts whose holder died: their namespaces may still hold processes (sshd)
        state['stale'] = dict((h, v) for h, v in hosts.items() if h not in state['hosts'])
        return state

    def save(self, state):
        tmp = self.state_file + '.tmp'
        with open(tmp, 'w') as handle:
            json.dump(state, handle, indent=1, sort_keys=True)
        os.rename(tmp, self.state_file)

    def _tag(self, member):
        return '%s/%s' % (self.name, member)

    def _holder(self, member, record):
        return VirtualHost(member, record['pid'], self._tag(member))

    # ---- files

    @property
    def client_key(self):
        return os.path.join(self.dir, 'id_ed25519')

    @property
    def sshd_config(self):
        return os.path.join(self.dir, 'sshd_config')

    def ensure_files(self):
        if not os.path.isdir(self.dir):
            os.makedirs(self.dir, 0o700)
        for key in (self.client_key, os.path.join(self.dir, 'ssh_host_ed25519_key')):
            if not os.path.exists(key):
                subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'netplumb-lab-' + self.name,
                                '-f', key], check=True, stdout=subprocess.DEVNULL)
        shutil.copyfile(self.client_key + '.pub', os.path.join(self.dir, 'authorized_keys'))
        with open(self.sshd_config, 'w') as handle:
            handle.write(SSHD_CONFIG % {'dir': self.dir})

    # ---- members

    def start_switch(self):
        switch = VirtualHost.create('switch', self._tag('switch'), kind='net')
        _in_namespace(switch.pid, lambda ipr: _bridge_up(ipr, 'br0'))
        return {'pid': switch.pid}

    def start_outside(self, underlay):
        network = ipaddress.ip_network(underlay)
        outside = VirtualHost.create('outside', self._tag('outside'), kind='net')
        internet = ipaddress.ip_network(OUTSIDE_NETWORK)
        return {'pid': outside.pid, 'address': '%s/%d' % (next(network.hosts()), network.prefixlen),
                'internet': '%s/%d' % (next(internet.hosts()), internet.prefixlen)}

    def machine_dir(self, name):
        return os.path.join(self.dir, 'machines', name)

    def start_machine(self, state, name, address, gateway, release='bookworm'):
        """A lab machine (``_machine``) of Debian ``release``: booted, its sshd answering on the underlay."""
        image = _machine.IMAGES[release]
        _machine.check_image(image)
        # the switch's own address on the underlay: where SSH to a machine comes from
        network = ipaddress.ip_network(state['underlay'])
        switch_address = '%s/%d' % (list(network.hosts())[-1], network.prefixlen)
        _in_namespace(state['switch']['pid'], lambda ipr: _address_once(ipr, 'br0', switch_address))
        directory = self.machine_dir(name)
        with open(self.client_key + '.pub') as handle:
            _machine.prepare(directory, name, address, gateway, handle.read())
        record = {'pid': _machine.start(directory, name, state['switch']['pid'], self._tag(name), image),
                  'address': address, 'kind': 'machine', 'release': release}
        try:
            _machine.wait_ssh(state['switch']['pid'], address)
        except KernelError:
            _machine.stop(record['pid'], directory)
            raise
        return record

    def start_host(self, name, address, stale=None):
        """``stale``: the record of an earlier incarnation whose holder died; what it left running
        in its namespaces (its sshd) is stopped first."""
        if stale:
            kill_and_wait(same_processes([stale.get('sshd')]), 'virtual host %s' % name, 10)
        host = VirtualHost.create(name, self._tag(name))
        record = {'pid': host.pid, 'address': address}
        self.start_sshd(name, record)
        return record

    def start_sshd(self, name, record):
        """Start the host's sshd and note its PID and start time in ``record``: sshd drops the tag
        from its environment, and a host whose holder died is otherwise left with it running."""
        holder = self._holder(name, record)
        proc = holder.run(['/usr/sbin/sshd', '-f', self.sshd_config], check=False)
        if proc.returncode != 0:
            raise KernelError('virtual host %s' % name, 'start sshd', proc.stderr.strip())
        pid = int(holder.run(['cat', '/run/sshd.pid']).stdout.strip())
        record['sshd'] = {'pid': pid, 'start': start_time(pid)}

    def sshd_running(self, name, record):
        """The host's sshd, by the pid file in its private /run (a machine's systemd keeps its own)."""
        if record.get('kind') == 'machine':
            return True
        probe = self._holder(name, record).run(['sh', '-c', 'kill -0 "$(cat /run/sshd.pid 2>/dev/null)"'], check=False)
        return probe.returncode == 0

    def wire(self, state, member, record, gateway=None, extra_address=None):
        """Join ``member`` to the underlay switch: port p<pid> on br0 <-> eth0 inside."""
        port = 'p%d' % record['pid']

        def add_port(ipr):
            ipr.link('add', ifname=port, kind='veth', peer={'ifname': 'eth0', 'net_ns_pid': record['pid']})
            index = ipr.link_lookup(ifname=port)[0]
            ipr.link('set', index=index, master=ipr.link_lookup(ifname='br0')[0], state='up')

        def configure(ipr):
            index = ipr.link_lookup(ifname='eth0')[0]
            iface = ipaddress.ip_interface(record['address'])
            ipr.addr('add', index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen)
            ipr.link('set', index=index, state='up')
            if extra_address:
                lo = ipaddress.ip_interface(extra_address)
                ipr.addr('add', index=ipr.link_lookup(ifname='lo')[0], address=str(lo.ip),
                         prefixlen=lo.network.prefixlen)
            if gateway:
                ipr.route('add', dst='0.0.0.0/0', gateway=gateway)

        _in_namespace(state['switch']['pid'], add_port, 'underlay port for %s' % member)
        _in_namespace(record['pid'], configure, 'underlay address of %s' % member)

    def route_default(self, record, gateway, name=None):
        """Point a host's default route at the outside world (or remove it: gateway None); a
        machine takes it at its next boot."""
        if record.get('kind') == 'machine':
            _machine.set_gateway(self.machine_dir(name), record['address'], gateway)
            return

        def action(ipr):
            if gateway:
                ipr.route('replace', dst='0.0.0.0/0', gateway=gateway)
            elif ipr.get_routes(family=2, dst_len=0, table=254):
                ipr.route('del', dst='0.0.0.0/0')
        _in_namespace(record['pid'], action, 'default route of a lab host')

    def destroy(self):
        """Stop everything of this lab (recorded or only tagged) and remove its directory."""
        state = None
        try:
            with open(self.state_file) as handle:
                state = json.load(handle)
        except (IOError, ValueError):
            pass
        members = []
        for name, record in ((state or {}).get('hosts') or {}).items():
            if record.get('kind') == 'machine':
                _machine.stop(record['pid'], self.machine_dir(name))
            else:
                members.append(self._holder(name, record))
        for role in ('outside', 'switch'):
            if (state or {}).get(role):
                members.append(self._holder(role, state[role]))
        for member in members:
            member.destroy()
        records = list(((state or {}).get('hosts') or {}).values()) + list(((state or {}).get('stale') or {}).values())
        kill_and_wait(same_processes([record.get('sshd') for record in records]), 'lab %s' % self.name)
        kill_and_wait(lab_processes(self.name), 'lab %s' % self.name)
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir)


SSHD_CONFIG = '''# sshd of a netplumb lab host: on the host's own loopback, keys from the lab directory.
ListenAddress 127.0.0.1
Port 22
HostKey %(dir)s/ssh_host_ed25519_key
AuthorizedKeysFile %(dir)s/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile /run/sshd.pid
Subsystem sftp internal-sftp
AcceptEnv LANG LC_*
'''


def _in_namespace(pid, action, what='underlay switch'):
    from pyroute2 import NetNS
    from pyroute2.netlink.exceptions import NetlinkError
    handle = NetNS('/proc/%d/ns/net' % pid, flags=0)
    try:
        action(handle)
    except (NetlinkError, OSError) as error:
        raise KernelError(what, 'configure', getattr(error, 'strerror', None) or str(error))
    finally:
        handle.close()


def _address_once(ipr, name, address):
    iface = ipaddress.ip_interface(address)
    index = ipr.link_lookup(ifname=name)[0]
    if str(iface.ip) not in [a.get_attr('IFA_ADDRESS') for a in ipr.get_addr(index=index)]:
        ipr.addr('add', index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen)


def _bridge_up(ipr, name):
    ipr.link('add', ifname=name, kind='bridge')
    ipr.link('set', index=ipr.link_lookup(ifname=name)[0], state='up')
