"""The topology module's way in, for the unit tests: its argument spec as AnsibleModule applies
it, then the semantic checks of the model."""

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._topology.model import model
from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import check_arguments


def declarations(params):
    """Module arguments -> frozen model, raising InvalidInput with the module's own message
    when the spec refuses them."""
    validated, problem = check_arguments(params)
    if problem is not None:
        raise InvalidInput(problem)
    return model(validated)
