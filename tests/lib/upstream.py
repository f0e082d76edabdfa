"""An upstream name server for a virtual host, inside it: unbound on the host's loopback with a
static zone answering outside.example (203.0.113.80) and nothing else, named by the host's own
resolv.conf, so the networks' name server forwards there and no query ever leaves the lab."""

import time

OUTSIDE_NAME, OUTSIDE_ADDRESS = 'outside.example', '203.0.113.80'
CONFIG = '''server:
  username: ""
  chroot: ""
  directory: "%(dir)s"
  pidfile: ""
  do-daemonize: no
  use-syslog: no
  interface: %(address)s
  access-control: 0.0.0.0/0 allow
  module-config: "iterator"
  local-zone: "example." static
  local-data: "%(name)s. A %(answer)s"
remote-control:
  control-enable: no
'''


def start_upstream(host, directory, address='127.0.0.53'):
    """Start it in ``host`` (a VirtualHost) bound to ``address``; a loopback address is named in
    the host's private /etc/resolv.conf. Returns the process (destroying the host ends it)."""
    path = '%s/upstream.conf' % directory
    with open(path, 'w') as handle:
        handle.write(CONFIG % {'dir': directory, 'address': address, 'name': OUTSIDE_NAME, 'answer': OUTSIDE_ADDRESS})
    if address != '0.0.0.0':
        with open('/proc/%d/root/etc/resolv.conf' % host.pid, 'w') as handle:
            handle.write('nameserver %s\n' % address)
    proc = host.spawn(['unbound', '-c', path])
    for _attempt in range(100):
        answer = host.run(['dig', '+short', '+time=1', '+tries=1', '@' + address, OUTSIDE_NAME], check=False)
        if answer.stdout.strip() == OUTSIDE_ADDRESS:
            return proc
        time.sleep(0.05)
    raise AssertionError('the upstream name server did not start')
