# Copyright (c) mmgen_vision contributors. All rights reserved.
import datetime
import warnings

from mmengine import DefaultScope

from mmgen_vision import registry
from .compat import setup_compat


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all modules of mmgen_vision into its registries, and :func:`setup_compat`.

    Every registry of :mod:`mmgen_vision.registry` declares where its modules live (its
    ``locations``: ``mmgen_vision.models``, ``mmgen_vision.datasets``, ..., ``mmgen_vision.apis``);
    importing those runs their ``@register_module`` decorators. Going through the registries
    keeps ``utils`` (the lowest layer) free of imports of the layers above it. The stock
    codebases register lazily through their own registry locations when a prefixed type
    (``mmdet.``, ``mmseg.``, ``mmpose.``) is built.

    Args:
        init_default_scope (bool): Whether to set the default scope to ``'mmgen_vision'``
            (a new, uniquely named instance is created if another scope is current).
    """
    setup_compat()
    for value in vars(registry).values():
        if isinstance(value, registry.Registry) and value.scope == registry.SCOPE:
            value.import_from_location()

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    never_created = current is None or not DefaultScope.check_instance_created('mmgen_vision')
    if never_created:
        DefaultScope.get_instance('mmgen_vision', scope_name='mmgen_vision')
        return
    if current.scope_name != 'mmgen_vision':
        warnings.warn(f'The current default scope "{current.scope_name}" is not '
                      '"mmgen_vision"; `register_all_modules` will force it to "mmgen_vision".')
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S-%f')
        DefaultScope.get_instance(f'mmgen_vision-{stamp}', scope_name='mmgen_vision')
