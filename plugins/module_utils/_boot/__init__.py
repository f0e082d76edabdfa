# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore at boot: the desired state a host keeps (desired) and the files that rebuild it (files);
the command that does is _topology/restore.py (it runs the topology engine)."""
