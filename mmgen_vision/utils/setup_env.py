# Copyright (c) mmgen_vision contributors. All rights reserved.
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all modules of mmgen_vision into its registries.

    Importing the sub-packages runs their ``@register_module`` decorators. The stock
    codebases register lazily through their registry locations when a prefixed type
    (``mmdet.``, ``mmseg.``, ``mmpose.``) is built.

    Args:
        init_default_scope (bool): Whether to set the default scope to ``'mmgen_vision'``
            (a new, uniquely named instance is created if another scope is current).
    """
    import mmgen_vision.apis  # noqa: F401,F403
    import mmgen_vision.datasets  # noqa: F401,F403
    import mmgen_vision.engine  # noqa: F401,F403
    import mmgen_vision.evaluation  # noqa: F401,F403
    import mmgen_vision.models  # noqa: F401,F403
    import mmgen_vision.visualization  # noqa: F401,F403

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
