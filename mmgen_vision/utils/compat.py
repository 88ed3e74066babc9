# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Everything mmgen_vision changes in other libraries, in one explicit call.

Importing ``mmgen_vision`` (or any of its sub-packages) registers our modules and changes
nothing else. The changes below are made only by :func:`setup_compat`, which
:func:`~mmgen_vision.utils.register_all_modules`, every tool (``tools/train.py``,
``tools/test.py``, ``tools/misc``, ``tools/analysis_tools``), every demo and every Inferencer call
before they build anything:

* **MMEngine checkpoint loading** (:func:`~.checkpoint.install_safe_checkpoint_loader`): the
  ``CheckpointLoader`` schemes for local files, ``s3://`` and ``petrel://`` load with
  :func:`~.checkpoint.safe_torch_load`. torch >= 2.6 unpickles with ``weights_only=True`` and
  refuses the objects MMEngine itself writes (``--resume`` breaks); we allow-list exactly those
  instead of turning the protection off.
* **MMEngine's ``'pkl'`` / ``'pickle'`` file handler**
  (:func:`~.safe_load.install_safe_pickle_handler`): ``mmengine.load(..., file_format='pkl')``
  unpickles with :class:`~.safe_load.RestrictedUnpickler` instead of plain ``pickle.load``, so a
  crafted data pickle cannot run code. Dumping is unchanged.
* **mmdet's** ``RefCocoDataset.load_data_list`` (:func:`name_refcoco_split_file`): it reads its
  split file through ``mmengine.load``, which hands the handler an anonymous stream; a refused
  file's error then names ``split_file``.
* **A stand-in** ``panopticapi`` (:func:`~.panoptic.install_panopticapi_fallback`): the package
  is not on PyPI; when it is missing, ``sys.modules`` gets the pieces mmdet's panoptic loader
  and metric use (``rgb2id``, ``PQStat``, ``VOID``, ``OFFSET``), also set on the mmdet modules
  imported before.

Code that loads checkpoints or data pickles through our own functions
(:func:`~.checkpoint.load_local_checkpoint`, :func:`~.safe_load.safe_pickle_load`:
``RefCocoSegDataset``, the baselines, the Inferencers) is protected with or without this call.
"""
import functools

from .checkpoint import install_safe_checkpoint_loader
from .panoptic import install_panopticapi_fallback
from .safe_load import PickleFileError, install_safe_pickle_handler

_ANONYMOUS = 'the pickle read by mmengine.load'


def name_refcoco_split_file() -> None:
    """Make a refused split file of the stock ``mmdet.RefCocoDataset`` name its path.

    Idempotent; does nothing when mmdet is not installed. The file itself is refused by the
    restricted ``'pkl'`` handler (:func:`~.safe_load.install_safe_pickle_handler`); this only
    puts ``split_file`` into the error in place of the anonymous stream.
    """
    try:
        from mmdet.datasets.refcoco import RefCocoDataset
    except ImportError:
        return
    stock = RefCocoDataset.load_data_list
    if getattr(stock, '__mmgen_vision_compat__', False):
        return

    @functools.wraps(stock)
    def load_data_list(self):
        try:
            return stock(self)
        except PickleFileError as err:
            message = str(err)
            named = f'pickle file {self.split_file}'
            message = message.replace(_ANONYMOUS, named) if _ANONYMOUS in message else \
                f'{named}: {message}'
            raise type(err)(message) from err.__cause__

    load_data_list.__mmgen_vision_compat__ = True
    RefCocoDataset.load_data_list = load_data_list


def setup_compat() -> None:
    """Install mmgen_vision's changes to MMEngine, mmdet and ``sys.modules`` (see the module
    docstring for the list and the reasons).

    Idempotent: calling it again changes nothing. Called by ``register_all_modules``, the tools,
    the demos and the Inferencers; call it yourself when you build our configs' components
    without them (e.g. ``mmengine.registry.DATASETS.build`` in a notebook).
    """
    install_safe_checkpoint_loader()
    install_safe_pickle_handler()
    name_refcoco_split_file()
    install_panopticapi_fallback()
