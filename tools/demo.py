"""make demo: seed 001 rebuilt by ansible-playbook inside a throw-away virtual host.

A 'container' (a process in a network namespace of its own, like docker run --net=none)
is started in the virtual host; playbooks/seed001.yml adopts its namespace by PID and
wires it to bridge br666. The demo prints what was built and the ping results, then
destroys everything, unless --keep is given."""

import argparse
import os
import subprocess
import sys

from collection_path import ROOT, collections_path
from vhost import REGISTRY, VirtualHost

NAME = 'netplumb-demo'


def show(host, title, argv):
    print('\n## %s\n$ %s' % (title, ' '.join(argv)))
    sys.stdout.write(host.run(argv).stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--keep', action='store_true', help='leave the virtual host up to look around')
    args = parser.parse_args()

    subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'vhost.py'), 'destroy', NAME],
                   check=True, stdout=subprocess.DEVNULL)
    host = VirtualHost.create(NAME)
    os.makedirs(REGISTRY, exist_ok=True)
    with open(os.path.join(REGISTRY, NAME), 'w') as pid_file:
        pid_file.write(str(host.pid))
    try:
        container = host.spawn(['unshare', '--net', 'sleep', 'infinity'])
        print('virtual host %s is up; container process %d has a network namespace of its own'
              % (NAME, container.pid))
        bin_dir = os.path.dirname(sys.executable)
        play = host.run([os.path.join(bin_dir, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                         '-e', 'ansible_python_interpreter=%s' % sys.executable,
                         '-e', 'container_pid=%d' % container.pid,
                         os.path.join(ROOT, 'playbooks', 'seed001.yml')],
                        check=False, env={'ANSIBLE_COLLECTIONS_PATH': collections_path(),
                                          'ANSIBLE_LOCAL_TEMP': '/run/ansible-tmp',
                                          'ANSIBLE_REMOTE_TEMP': '/run/ansible-tmp',
                                          'ANSIBLE_RETRY_FILES_ENABLED': '0'})
        print(play.stdout)
        if play.returncode != 0:
            sys.stderr.write(play.stderr)
            print('demo FAILED (ansible-playbook exit code %d)' % play.returncode)
            return 1
        show(host, 'host side: bridge and veth', ['ip', '-br', 'addr', 'show'])
        show(host, 'container side (netns666)', ['ip', '-n', 'netns666', '-br', 'addr', 'show'])
        show(host, 'container routes', ['ip', '-n', 'netns666', 'route'])
        show(host, 'ping 10.0.0.1 from the container', ['ip', 'netns', 'exec', 'netns666',
                                                        'ping', '-c', '3', '-W', '2', '10.0.0.1'])
        show(host, 'ping 10.0.0.2 from the host', ['ping', '-c', '3', '-W', '2', '10.0.0.2'])
        if args.keep:
            print('\nKept. Look around:  python3 tools/vhost.py exec %s -- bash' % NAME)
            print('Destroy:            make demo-destroy')
            return 0
    except BaseException:
        args.keep = False
        raise
    finally:
        if not args.keep:
            host.destroy()
            os.unlink(os.path.join(REGISTRY, NAME))
            print('\nvirtual host %s destroyed: nothing is left behind' % NAME)
    return 0


if __name__ == '__main__':
    sys.exit(main())
