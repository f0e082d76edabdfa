"""Print what playbooks/site.yml built on each host of a lab: python3 tools/show_lab.py LAB"""

import json
import os
import subprocess
import sys

SHOW = ('echo "== $(hostname): underlay $(ip -o -4 addr show eth0 | cut -d" " -f7)";'
        'ip -br addr show br666; ip -br addr show veth_d366;'
        'echo "netns666:"; ip -n netns666 -br addr; ip -n netns666 route;'
        'ip netns exec netns666 ping -c 1 -W 2 10.0.0.1 | grep -E "packets|rtt"')


def main(lab):
    directory = os.path.join('/var/lib/netplumb-lab', lab)
    with open(os.path.join(directory, 'lab.json')) as handle:
        hosts = sorted(json.load(handle)['hosts'])
    for host in hosts:
        subprocess.run(['ssh', '-F', os.path.join(directory, 'ssh_config'), host, SHOW], check=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'demo'))
