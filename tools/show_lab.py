"""Print what playbooks/site.yml built on each host of a lab: python3 tools/show_lab.py LAB"""

import json
import os
import subprocess
import sys

SHOW = r'''
echo "== $(hostname): underlay $(ip -o -4 addr show eth0 | cut -d" " -f7)"
ip -br link show type bridge
for ns in $(ip netns list | cut -d" " -f1); do
  echo "  $ns: $(ip -n $ns -br -4 addr show | grep -v '^lo' | tr -s ' ' | tr '\n' ' ')"
done
for ns in $(ip netns list | cut -d" " -f1); do
  [ -f /etc/netns/$ns/hosts ] || continue      # endpoints only: their names, never the machine's /etc/hosts
  for peer in $(awk '$2 !~ /localhost/ && $1 !~ /^#/ {print $2}' /etc/netns/$ns/hosts); do
    [ "$peer" = "$ns" ] && continue
    printf '  %s -> %s by name: ' "$ns" "$peer"
    ip netns exec $ns ping -c 1 -W 2 "$peer" | grep -o '[0-9]* received'
  done
done
'''


def main(lab):
    directory = os.path.join('/var/lib/netplumb-lab', lab)
    with open(os.path.join(directory, 'lab.json')) as handle:
        hosts = sorted(json.load(handle)['hosts'])
    for host in hosts:
        subprocess.run(['ssh', '-F', os.path.join(directory, 'ssh_config'), host, SHOW], check=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'demo'))
