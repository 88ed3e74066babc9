# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Catch misspelt config keys and overrides that would silently do nothing.

MMEngine's ``Runner.from_cfg`` ignores unknown top-level keys and ``--cfg-options`` creates any
key path it is given, so ``trian_cfg=...``, ``model.bakcbone.depth=50``,
``model.test_cfg.mdoe=slide`` or ``max_iters=5`` (a variable that was already substituted when
the file was parsed) would run with the defaults without a word. These checks turn all of them
into errors that name the key and suggest the one that was meant.
"""
import difflib
import importlib
import inspect
import os.path as osp
from typing import Any, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

from mmengine.config import Config, ConfigDict
from mmengine.registry import Registry
from mmengine.utils import import_modules_from_strings
from torch.utils.data import DataLoader

#: Top-level keys that ``Runner.from_cfg`` (or the tools) consume.
RUNNER_KEYS = (
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
    'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler', 'val_evaluator',
    'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer',
    'default_scope', 'randomness', 'experiment_name', 'runner_type', 'model_wrapper_cfg',
    'find_unused_parameters', 'custom_imports', 'tta_model', 'tta_pipeline', 'compile',
    'strategy', 'cfg', 'sync_bn', 'activation_checkpointing', 'efficient_conv_bn_eval')


#: Helper variables OpenMMLab configs conventionally define next to the runner keys.
CONVENTIONAL_VARIABLES = (
    'train_pipeline', 'val_pipeline', 'test_pipeline', 'dataset_type', 'data_root',
    'backend_args', 'norm_cfg', 'crop_size', 'img_scale', 'img_size', 'max_iters', 'max_epochs',
    'warmup_iters', 'warmup_epochs', 'vis_backends', 'num_classes', 'metainfo', 'train_dataset',
    'val_dataset', 'test_dataset', 'file_client_args', 'base_lr', 'batch_size', 'work_dir')


class ConfigKeyError(KeyError):
    """A config key is unknown; the message names it and suggests the closest known key."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0])


def _suggest(key: str, candidates: Iterable[str]) -> Optional[str]:
    close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.8)
    return close[0] if close else None


def check_top_level_keys(cfg: Config, filename: str = '') -> None:
    """Refuse top-level keys that look like misspellings of the runner's keys.

    Configs legitimately define helper variables (``data_root``, ``train_pipeline``...), so only
    a key that is neither a runner key nor a conventional variable (nor starts with ``_``) but is
    within a small edit distance of a runner key is refused.

    Raises:
        ConfigKeyError: e.g. ``Unknown config key 'trian_cfg' in x.py (did you mean 'train_cfg'?)``.
    """
    where = f' in {filename}' if filename else ''
    for key in cfg.keys():
        if key in RUNNER_KEYS or key in CONVENTIONAL_VARIABLES or key.startswith('_'):
            continue
        suggestion = _suggest(key, RUNNER_KEYS)
        if suggestion is not None:
            raise ConfigKeyError(f"Unknown config key '{key}'{where} (did you mean "
                                 f"'{suggestion}'?). The runner would silently ignore it; a "
                                 "variable of your own may be prefixed with '_'.")


def _is_transposition(key: str, candidate: str) -> bool:
    """``mdoe`` / ``mode``: two neighbouring characters swapped (difflib rates it only 0.75)."""
    if len(key) != len(candidate) or len(key) < 3:
        return False
    diff = [i for i, (a, b) in enumerate(zip(key, candidate)) if a != b]
    return (len(diff) == 2 and diff[1] == diff[0] + 1 and key[diff[0]] == candidate[diff[1]]
            and key[diff[1]] == candidate[diff[0]])


def _close_key(key: str, candidates: Iterable[str]) -> Optional[str]:
    """The candidate ``key`` is most likely a misspelling of, if any."""
    candidates = [c for c in candidates if isinstance(c, str) and c != key]
    swapped = [c for c in candidates if _is_transposition(key, c)]
    return swapped[0] if swapped else _suggest(key, candidates)


def _registries() -> List[Registry]:
    """Every registry of the ``mmgen_vision`` scope (parents: MMEngine's root registries)."""
    from mmgen_vision import registry
    return [obj for obj in vars(registry).values() if isinstance(obj, Registry)]


def _scoped_registry(registry: Registry, scope: str) -> Optional[Registry]:
    """The registry of the same kind as ``registry`` in ``scope`` (None if that scope has none).

    Like MMEngine's ``switch_scope_and_registry``, without changing the default scope and
    without warning about scopes that lack a registry of this kind (e.g. mmseg has no
    ``FUNCTIONS``).
    """
    try:
        importlib.import_module(f'{scope}.registry')  # adds the scope's registries to the tree
    except ModuleNotFoundError as err:
        if err.name not in (scope, f'{scope}.registry'):
            raise  # the scope's registry module is there but fails to import
        return None  # not a package with registries: nothing to look the name up in
    root = registry
    while root.parent is not None:
        root = root.parent
    pending = [root]
    while pending:
        node = pending.pop()
        if node.scope == scope:
            return node
        pending.extend(node.children.values())
    return None


def _init_arguments(obj: Any) -> Tuple[frozenset, bool]:
    """Keyword arguments a registered class (or function) accepts.

    ``**kwargs`` that an ``__init__`` forwards are followed up the MRO, so ``ResNetV1c`` accepts
    ``init_cfg`` of ``BaseModule``.

    Returns:
        tuple[frozenset, bool]: The argument names, and whether any other keyword is accepted
        too (a ``**kwargs`` that reaches no named argument, or a signature that cannot be read).
    """
    if inspect.isclass(obj):
        targets = [klass.__init__ for klass in obj.__mro__ if '__init__' in vars(klass)]
    else:
        targets = [obj]
    names = set()
    for target in targets:
        try:
            parameters = inspect.signature(target).parameters.values()
        except (TypeError, ValueError):  # builtins without a signature
            return frozenset(names), True
        names.update(p.name for p in parameters
                     if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != 'self')
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            return frozenset(names), False
    return frozenset(names), True


def module_arguments(type_name: Any,
                     scopes: Sequence[str]) -> Optional[Tuple[frozenset, bool]]:
    """Look up the class a config dict's ``type`` names and list its keyword arguments.

    Args:
        type_name (str | type): The ``type`` of the dict; ``'mmdet.X'`` names its scope.
        scopes (Sequence[str]): Scopes an unprefixed name may be resolved in: the config's
            ``default_scope``, an enclosing ``_scope_``, the scope of an enclosing
            ``'mmseg.X'`` type.

    Returns:
        tuple[frozenset, bool] | None: See :func:`_init_arguments`, united over every registry
        (and scope) that knows the name; None if none does.
    """
    if not isinstance(type_name, str):
        return _init_arguments(type_name) if callable(type_name) else None
    found = []
    for scope in dict.fromkeys(scopes):
        for registry in _registries():
            scoped = _scoped_registry(registry, scope)
            obj = scoped.get(type_name) if scoped is not None else None
            if obj is not None and all(obj is not other for other in found):
                found.append(obj)
    if not found:
        return None
    names, open_ended = set(), False
    for obj in found:
        obj_names, obj_open = _init_arguments(obj)
        names |= obj_names
        open_ended |= obj_open
    return frozenset(names), open_ended


def _config_items(node: Any, prefix: str = '') -> Iterator[Tuple[str, Any, Any]]:
    """``(dotted path, key, value)`` of every dict entry and list item below ``node``."""
    if isinstance(node, Mapping):
        items = node.items()
    elif isinstance(node, (list, tuple)):
        items = ((str(i), v) for i, v in enumerate(node))
    else:
        return
    for key, value in items:
        path = f'{prefix}.{key}' if prefix else str(key)
        yield path, key, value
        yield from _config_items(value, path)


def _check_top_level_override(cfg_dict: dict, dotted: str, extra_keys: Sequence[str]) -> None:
    """Only keys that the runner or the tool reads may be overridden at the top level."""
    parts = dotted.split('.')
    top, rest = parts[0], '.'.join(parts[1:])
    model = cfg_dict.get('model')
    if (top == 'data_preprocessor' and isinstance(model, Mapping)
            and model.get('data_preprocessor') is not None):
        raise ConfigKeyError(
            f"--cfg-options key '{dotted}': the runner uses the top-level data_preprocessor only "
            "for a model without one, and this model has its own, so the override would change "
            f"nothing; override 'model.{dotted}' instead.")
    if top in RUNNER_KEYS or top in extra_keys:
        return
    # the settings the override was probably meant for: same name (max_iters=5 ->
    # train_cfg.max_iters), or for a variable holding a dict / list, where its value went
    read = set(RUNNER_KEYS) | set(extra_keys)
    settings = [(path, key, value) for path, key, value in _config_items(cfg_dict)
                if '.' in path and path.split('.')[0] in read]
    candidates = [path for path, key, _ in settings if key == top] if not rest else []
    if top in cfg_dict:
        value = cfg_dict[top]
        if not candidates and isinstance(value, (Mapping, list, tuple)) and value:
            candidates = [f'{path}.{rest}' if rest else path for path, _, other in settings
                          if other == value]
        hint = ('; override the setting that uses it instead, e.g. ' +
                ', '.join(f"'{p}'" for p in candidates[:3])) if candidates else ''
        raise ConfigKeyError(
            f"--cfg-options key '{dotted}': '{top}' is a variable of the config file. Its value "
            'was copied into the settings that use it when the file was parsed and nothing '
            f"reads '{top}' itself, so the override would change nothing{hint}.")
    close = _close_key(top, list(RUNNER_KEYS) + list(extra_keys))
    if close is not None:
        candidates = [f'{close}.{rest}' if rest else close]
    hint = f" (did you mean '{candidates[0]}'?)" if candidates else ''
    raise ConfigKeyError(
        f"--cfg-options key '{dotted}': '{top}' is not a key of the config and not a setting "
        f'that the runner reads, so the override would change nothing{hint}.')


def check_override_keys(cfg: Config,
                        options: Optional[Mapping],
                        extra_keys: Sequence[str] = ()) -> None:
    """Refuse ``--cfg-options`` that would silently change nothing.

    For each dotted key:

    * the top-level key must be one the runner (:data:`RUNNER_KEYS`) or the calling tool
      (``extra_keys``) reads. A config variable such as ``max_iters`` or ``data_root`` was
      substituted when the file was parsed, so overriding it is refused, naming the settings
      to override instead (``train_cfg.max_iters``);
    * every key on the way must exist, except that a new sub-dict may be created where the
      config holds None, as a new top-level runner key (``randomness.seed=1``), or as an
      argument of the registered module it belongs to (``model.backbone.init_cfg.type=...``
      for a backbone whose ``__init__`` takes ``init_cfg``; the class is looked up in the
      registries with the config's ``default_scope``, or the scope that an enclosing
      ``_scope_`` or ``'mmseg.X'`` type sets);
    * a new key is refused when it is a near-miss (difflib, or two swapped letters) of a key
      next to it or of an argument of the module (``model.test_cfg.mdoe`` for ``mode``); any
      other new last key is accepted, as the module validates it when it is built.

    Args:
        cfg (Config): The loaded config, before the options are merged.
        options (Mapping, optional): Dotted overrides (``DictAction`` output).
        extra_keys (Sequence[str]): Top-level keys the calling tool reads besides the
            runner's. Defaults to ().

    Raises:
        ConfigKeyError: Naming the option, the offending key and, if any, the closest key.
    """
    if not options:
        return
    cfg_dict = cfg.to_dict()
    if cfg_dict.get('custom_imports'):  # project modules register their classes on import
        import_modules_from_strings(**cfg_dict['custom_imports'])
    default_scope = cfg_dict.get('default_scope') or 'mmgen_vision'
    for dotted in options:
        _check_top_level_override(cfg_dict, dotted, extra_keys)
        _check_override_path(cfg_dict, dotted, default_scope)


def _runner_arguments(top: str, arguments: Optional[Tuple[frozenset, bool]],
                      scopes: Sequence[str]) -> Optional[Tuple[frozenset, bool]]:
    """Add what the runner itself reads from a top-level dict to its module's arguments.

    Dataloaders become ``torch.utils.data.DataLoader``; ``optim_wrapper`` is split by the
    optimizer wrapper constructor (``constructor``, ``paramwise_cfg``) and an ``OptimWrapper``
    (the default type); ``default_hooks`` maps any hook name to a hook.
    """
    if top in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        return _init_arguments(DataLoader)
    if top == 'optim_wrapper':
        names, open_ended = arguments or module_arguments('OptimWrapper', scopes) or (
            frozenset(), False)
        return names | {'constructor', 'paramwise_cfg'}, open_ended
    if top == 'default_hooks':
        return frozenset(), True
    return arguments


def _check_override_path(cfg_dict: dict, dotted: str, default_scope: str) -> None:
    """Walk ``dotted`` through the config (see :func:`check_override_keys`)."""
    parts, scopes = dotted.split('.'), [default_scope]
    if cfg_dict.get(parts[0]) is None:
        return  # a new top-level runner key or dict (checked by _check_top_level_override)
    node: Any = cfg_dict[parts[0]]
    for depth in range(1, len(parts)):
        part, parent = parts[depth], '.'.join(parts[:depth])
        path, is_leaf = f'{parent}.{part}', depth == len(parts) - 1
        if isinstance(node, (list, tuple)):
            if not part.isdigit():
                raise ConfigKeyError(f"--cfg-options key '{dotted}': '{parent}' is a list; "
                                     f"index it with a number instead of '{part}'.")
            if int(part) >= len(node):
                raise ConfigKeyError(f"--cfg-options key '{dotted}': index {part} is out of "
                                     f"range for '{parent}' (length {len(node)}).")
            node = node[int(part)]
            continue
        if not isinstance(node, Mapping):
            raise ConfigKeyError(f"--cfg-options key '{dotted}': '{parent}' is "
                                 f'{node!r} ({type(node).__name__}), not a dict, so it has no '
                                 f"key '{part}'.")
        type_name = node.get('type')
        if node.get('_scope_'):  # MMEngine builds this dict (and its children) in that scope
            scopes = [node['_scope_']] + scopes
        if part in node:
            if isinstance(type_name, str) and '.' in type_name:
                scopes = scopes + [type_name.split('.', 1)[0]]  # children may be of that scope
            if node[part] is None and not is_leaf:
                return  # a new sub-dict where the config holds None
            node = node[part]
            continue
        # a new key: is it an argument of the module, or a near-miss of an existing key?
        arguments = module_arguments(type_name, scopes) if type_name is not None else None
        if depth == 1:
            arguments = _runner_arguments(parent, arguments, scopes)
        names, open_ended = arguments if arguments is not None else (frozenset(), False)
        if part in names:
            return  # e.g. init_cfg of a backbone: a new leaf or sub-dict is fine
        close = _close_key(part, list(node.keys()) + sorted(names))
        if close is not None:
            raise ConfigKeyError(
                f"--cfg-options key '{dotted}': '{path}' does not exist in the config (did you "
                f"mean '{close}'?). A new key there would be ignored.")
        if is_leaf or open_ended:
            return  # the module validates a new argument when it is built
        module = f' ({type_name})' if type_name is not None else ''
        raise ConfigKeyError(f"--cfg-options key '{dotted}': '{path}' does not exist in the "
                             f"config, and '{parent}'{module} takes no argument '{part}' that "
                             'a new sub-dict could be for.')


def prepare_new_subdicts(cfg: Config, options: Optional[Mapping]) -> None:
    """Replace None by an empty dict where an override creates a sub-dict under it.

    ``model.backbone.init_cfg.type=Pretrained`` with ``init_cfg=None`` in the config would
    make MMEngine's merge fail (a dict cannot be merged into None).
    """
    for dotted in options or {}:
        parts = dotted.split('.')
        if len(parts) < 2:
            continue
        if cfg.get(parts[0], ...) is None:
            cfg[parts[0]] = ConfigDict()
        node: Any = cfg.get(parts[0])
        for part in parts[1:-1]:
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                key: Any = int(part)
            elif isinstance(node, Mapping) and part in node:
                key = part
            else:
                break
            if node[key] is None:
                node[key] = ConfigDict()
            node = node[key]


def load_config(filename: str,
                cfg_options: Optional[Mapping] = None,
                extra_keys: Sequence[str] = ()) -> Config:
    """Load a config, apply ``--cfg-options`` and validate the keys, as every tool does.

    Args:
        filename (str): Config file path.
        cfg_options (Mapping, optional): Dotted overrides (``DictAction`` output).
        extra_keys (Sequence[str]): Top-level keys the calling tool reads besides the runner's
            (see :func:`check_override_keys`). Defaults to ().

    Raises:
        ConfigKeyError: A misspelt top-level key, an override that would change nothing
            (see :func:`check_override_keys`), or a base's variable that the file (or one of
            its bases) sets but that no setting reads any more (``StaleVariableError``, see
            :func:`~mmgen_vision.utils.config_variables.check_variable_overrides`).
    """
    from .config_variables import check_variable_overrides  # builds on this module
    cfg = Config.fromfile(filename)
    check_variable_overrides(filename, extra_keys)
    check_override_keys(cfg, cfg_options, extra_keys)
    if cfg_options:
        prepare_new_subdicts(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    check_top_level_keys(cfg, filename)
    return cfg


def set_work_dir(cfg: Config, work_dir: Optional[str], filename: str) -> Config:
    """``--work-dir`` if given, else the config's ``work_dir``, else ``./work_dirs/<name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(filename))[0])
    return cfg
