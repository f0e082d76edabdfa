# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
attributes:
  check_mode:
    support: full
    description:
      - Check mode observes the kernel and reports the plan; it changes nothing, and never creates a namespace.
      - A namespace, bridge, port or device the task refers to that does not exist yet is assumed to be created by
        an earlier task of the same run, with a warning that names it, so a playbook of dependent tasks can be checked
        on a bare host. A real run fails on it before changing anything.
  diff_mode:
    support: full
    description: The diff shows the observed and the predicted state of the fields the task manages.
  platform:
    support: full
    platforms: posix
    description: Linux hosts only; talks netlink to the kernel through pyroute2.
requirements:
  - Linux
  - pyroute2 >= 0.7.2 on the managed host (Debian/Ubuntu package C(python3-pyroute2))
notes:
  - "Run the task as root (C(become: true)); network namespaces and links need CAP_NET_ADMIN and CAP_SYS_ADMIN."
  - The C(actions) return value lists the kernel operations in the order they are (or, in check mode, would be) applied.
'''
