"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads from a host
this project's CI cannot reach: install pip from the interpreter's bundled wheel
(ensurepip), then the requested pip version and packages from the package index.
Copied by the Makefile to ansible-test's cache as get_pip_<version>.py."""

import subprocess
import sys


def main():
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
    requested = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + requested)


if __name__ == '__main__':
    main()
