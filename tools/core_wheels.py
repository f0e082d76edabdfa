"""Fetch, on this machine, every wheel a Debian 13 lab machine needs to run a given ansible-core as
the controller and its ansible-test sanity: the lab machines reach no network, and this machine's
Python (3.11) is too old to install ansible-core 2.20+ for itself.

  python tools/core_wheels.py VERSION DIRECTORY

DIRECTORY gets ansible-core VERSION and its dependencies, the pip ansible-test pins for its virtual
environments, and the pinned requirements of every sanity test, all as CPython 3.13 wheels for
x86_64 glibc; then a file "pip-version" (the pinned pip, for ansible-test's bootstrap stand-in).
"""

import glob
import os
import re
import subprocess
import sys
import tempfile
import zipfile

# Debian 13: CPython 3.13, glibc 2.41 - wheels for any manylinux up to it
TARGET = ['--python-version', '3.13', '--implementation', 'cp', '--abi', 'cp313', '--only-binary=:all:',
          '--platform', 'manylinux_2_28_x86_64', '--platform', 'manylinux_2_17_x86_64',
          '--platform', 'manylinux2014_x86_64', '--platform', 'any']


def download(directory, *requirements):
    subprocess.check_call([sys.executable, '-m', 'pip', 'download', '--quiet', '--disable-pip-version-check',
                           '--dest', directory] + TARGET + list(requirements))


def main(version, directory):
    os.makedirs(directory, exist_ok=True)
    download(directory, 'ansible-core==%s' % version)
    wheel = glob.glob(os.path.join(directory, 'ansible_core-%s-*.whl' % version))[0]
    with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory() as scratch:
        pinned = re.search(r"pip='([0-9.]+)'", archive.read('ansible_test/_internal/python_requirements.py').decode())
        if not pinned:
            raise SystemExit('%s: no pinned pip version found in ansible-test' % wheel)
        files = [name for name in archive.namelist()
                 if re.match(r'ansible_test/_data/requirements/sanity\.[a-z0-9.-]+\.txt$', name)]
        for name in files:
            archive.extract(name, scratch)
        download(directory, 'pip==%s' % pinned.group(1),
                 *[arg for name in files for arg in ('-r', os.path.join(scratch, name))])
    with open(os.path.join(directory, 'pip-version'), 'w') as handle:
        handle.write(pinned.group(1) + '\n')


if __name__ == '__main__':
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
