"""The engine's layers hold: computed from the imports of plugins/module_utils (each one, in a
function too), no package imports one above it in the order docs/architecture.md writes, and no
two packages import each other, however far round."""

import ast
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE = os.path.join(ROOT, 'plugins', 'module_utils')
PACKAGE = 'ansible_collections.netplumb.container.plugins.module_utils'


def layers(text):
    """[{package, ...}, ...] from the bottom, as the line 'Layers, from the bottom:' writes them
    (a layer's packages separated by commas, layers by '<')."""
    line = re.search(r'^Layers, from the bottom: (.+)$', text, re.M).group(1)
    return [set(part.strip(' `') for part in layer.split(',')) for layer in line.split('<')]


def imports(engine=ENGINE):
    """{package: {(package it imports, file that does)}} over every file of the engine."""
    found = {}
    for directory, _dirs, names in os.walk(engine):
        for name in names:
            if not name.endswith('.py'):
                continue
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, engine)
            here = relative.split(os.sep, maxsplit=1)[0].replace('.py', '')
            for node in ast.walk(ast.parse(open(path).read(), path)):
                targets = []
                if isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
                    targets = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and (node.module or '').startswith(PACKAGE + '.'):
                    targets = [node.module[len(PACKAGE) + 1:].split('.')[0]]
                elif isinstance(node, ast.Import):
                    targets = [alias.name[len(PACKAGE) + 1:].split('.')[0] for alias in node.names
                               if alias.name.startswith(PACKAGE + '.')]
                for target in targets:
                    if target != here:
                        found.setdefault(here, set()).add((target, relative))
    return found


def upward(order, graph):
    rank = dict((package, level) for level, layer in enumerate(order) for package in layer)
    return sorted('%s imports %s (a layer above)' % (where, target)
                  for package, edges in graph.items() for target, where in edges
                  if rank[target] > rank[package])


def cycles(graph):
    """Each pair of packages that reach each other through imports."""
    reach = dict((package, set(t for t, _w in edges)) for package, edges in graph.items())
    changed = True
    while changed:
        changed = False
        for package in reach:
            more = set().union(*[reach.get(t, set()) for t in reach[package]]) - reach[package]
            if more:
                reach[package] |= more
                changed = True
    return sorted('%s <-> %s' % (a, b) for a in reach for b in reach[a] if a < b and a in reach.get(b, ()))


def test_every_package_is_in_a_layer():
    with open(os.path.join(ROOT, 'docs', 'architecture.md')) as handle:
        order = layers(handle.read())
    packages = set(name.replace('.py', '') for name in os.listdir(ENGINE)
                   if name != '__init__.py' and (name.endswith('.py') or os.path.isdir(os.path.join(ENGINE, name)))
                   and not name.startswith('__'))
    assert packages == set().union(*order)


def test_no_import_runs_up_a_layer_and_no_two_packages_import_each_other():
    with open(os.path.join(ROOT, 'docs', 'architecture.md')) as handle:
        order = layers(handle.read())
    graph = imports()
    assert upward(order, graph) == []
    assert cycles(graph) == []


def test_the_checks_see_an_import_up_and_a_cycle(tmp_path):
    for package, text in (('_low', 'from %s._high.x import y\n' % PACKAGE),
                          ('_high', 'def f():\n    from %s import _low\n' % PACKAGE)):
        (tmp_path / package).mkdir()
        (tmp_path / package / 'a.py').write_text(text)
    graph = imports(str(tmp_path))
    assert upward([{'_low'}, {'_high'}], graph) == [os.path.join('_low', 'a.py') + ' imports _high (a layer above)']
    assert cycles(graph) == ['_high <-> _low']
