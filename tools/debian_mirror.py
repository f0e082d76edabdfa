"""Where this machine's apt takes Debian's packages from: the first source of a Debian release
with component main, in apt's own files (one-line ``*.list`` and deb822 ``*.sources``). The lab
image is built from it, so a machine behind a company mirror or proxy builds it the same way it
installs packages; ``make lab-image DEBIAN_MIRROR=...`` overrides it.

    python3 tools/debian_mirror.py [ROOT]     prints the URI, or fails saying where it looked
"""

import glob
import os
import sys


def _list_entries(text):
    for line in text.splitlines():
        words = line.split('#', 1)[0].split()
        if len(words) >= 4 and words[0] == 'deb':
            if words[1].startswith('['):                     # deb [signed-by=...] URI suite components
                while words and not words[1].endswith(']'):
                    words.pop(1)
                words.pop(1)
            if len(words) >= 4:
                yield words[1], [words[2]], words[3:]


def _sources_entries(text):
    for stanza in text.split('\n\n'):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith('#') or ':' not in line or line[:1].isspace():
                continue
            key, value = line.split(':', 1)
            fields[key.strip().lower()] = value.split()
        if 'deb' in fields.get('types', []) and fields.get('enabled', ['yes'])[0].lower() != 'no':
            for uri in fields.get('uris', []):
                yield uri, fields.get('suites', []), fields.get('components', [])


def mirror(root='/'):
    """The URI of the first Debian release source (a suite with no '-', component main), or None."""
    apt = os.path.join(root, 'etc', 'apt')
    files = [os.path.join(apt, 'sources.list')] + sorted(glob.glob(os.path.join(apt, 'sources.list.d', '*.list'))) \
        + sorted(glob.glob(os.path.join(apt, 'sources.list.d', '*.sources')))
    for path in files:
        if not os.path.isfile(path):
            continue
        with open(path) as handle:
            text = handle.read()
        for uri, suites, components in (_sources_entries if path.endswith('.sources') else _list_entries)(text):
            if 'main' in components and any('-' not in suite and '/' not in suite for suite in suites) \
                    and 'debian-security' not in uri:
                return uri.rstrip('/')
    return None


if __name__ == '__main__':
    found = mirror(sys.argv[1] if len(sys.argv) > 1 else '/')
    if found is None:
        sys.exit("no Debian release source with component main in this machine's apt sources (/etc/apt/sources.list, "
                 "/etc/apt/sources.list.d/): name one with make lab-image DEBIAN_MIRROR=URI")
    print(found)
