# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Safe loading of pickled data files (e.g. the RefCOCO ``refs(<split_by>).p`` split files).

``pickle.load`` runs whatever a file asks it to: a crafted ``refs(unc).p`` whose object defines
``__reduce__`` calls ``os.system`` while the dataset is built. Data files only ever need plain
values, so :class:`RestrictedUnpickler` rebuilds exactly those:

* the containers and scalars that pickle encodes without naming any global: ``dict``, ``list``,
  ``tuple``, ``str``, ``bytes``, ``int``, ``float``, ``bool``, ``None`` and, from protocol 4,
  ``set`` and ``frozenset``;
* the few builtin value types that pickle rebuilds by calling their type
  (:data:`ALLOWED_GLOBALS`: ``complex`` always, ``set``, ``frozenset`` and ``bytearray`` in the
  older protocols), and ``_codecs.encode`` restricted to the latin1 encoding of a ``str``, which
  is how protocols 0-2 write ``bytes``.

Every other global (any function, any other class, ``getattr``, ``eval``, ``os.system`` ...) is
refused with :class:`UnsafePickleError`, which names the file and the global, before it can be
called. The safe checkpoint loader (:mod:`mmgen_vision.utils.checkpoint`) is the counterpart for
``torch.load``.

:func:`install_safe_pickle_handler` routes MMEngine's ``'pkl'`` / ``'pickle'`` file handler
through the same unpickler, so stock datasets that read pickles with
``mmengine.load(..., file_format='pkl')`` (``mmdet.RefCocoDataset``) are protected as well.
Writing pickles (``mmengine.dump``, ``tools/test.py --out``) is unchanged.
"""
import io
import os
import pickle
from typing import IO, Any, Optional, Union

from mmengine import fileio
from mmengine.fileio.handlers import PickleHandler


def latin1_bytes(text: str, encoding: str = 'latin1') -> bytes:
    """Stand-in for ``_codecs.encode`` while unpickling: only ``bytes`` as protocols 0-2 write
    them (``_codecs.encode(<str>, 'latin1')``); no other codec or argument is accepted.

    Raises:
        pickle.UnpicklingError: For anything else.
    """
    if not isinstance(text, str) or encoding != 'latin1':
        raise pickle.UnpicklingError(
            f'_codecs.encode({type(text).__name__}, {encoding!r}) is not allowed: only the '
            "latin1 encoding of a str, which is how pickle writes bytes, may be resolved")
    return text.encode('latin1')


#: The only globals a data pickle may name: builtin value types whose construction from the
#: pickled arguments cannot run code (Python 2 pickles name them under ``__builtin__``), and
#: the restricted stand-in for ``_codecs.encode`` that protocols 0-2 use to rebuild ``bytes``.
ALLOWED_GLOBALS = {
    ('builtins', 'set'): set,
    ('builtins', 'frozenset'): frozenset,
    ('builtins', 'complex'): complex,
    ('builtins', 'bytearray'): bytearray,
    ('_codecs', 'encode'): latin1_bytes,
}

_PY2_MODULES = {'__builtin__': 'builtins'}


class PickleFileError(ValueError):
    """A pickled data file could not be read; the message names the file and why."""


class UnsafePickleError(PickleFileError, pickle.UnpicklingError):
    """The pickle names a global outside :data:`ALLOWED_GLOBALS` (it could run code)."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds only builtin containers and scalars.

    Args:
        file (IO[bytes]): The pickle stream.
        what (str): How the file is named in errors, e.g. ``'pickle file data/refs(unc).p'``.
        encoding (str): How Python 2 ``str`` objects are decoded, as in :class:`pickle.Unpickler`.
            Defaults to ``'ASCII'``.
    """

    def __init__(self, file: IO[bytes], what: str, encoding: str = 'ASCII') -> None:
        super().__init__(file, encoding=encoding)
        self.what = what

    def find_class(self, module: str, name: str) -> Any:
        """Resolve only :data:`ALLOWED_GLOBALS`; refuse everything else before it is called.

        Raises:
            UnsafePickleError: Naming the file and the refused ``module.name``.
        """
        key = (_PY2_MODULES.get(module, module), name)
        if key in ALLOWED_GLOBALS:
            return ALLOWED_GLOBALS[key]
        raise UnsafePickleError(
            f'Refusing to load {self.what}: it refers to the global {module}.{name}, '
            'which could run code while it is unpickled. Data pickles may hold only builtin '
            'containers and scalars (dict, list, tuple, set, str, bytes, int, float, bool, '
            'None); re-create the file from plain values (or as JSON) if you trust its source.')

    def persistent_load(self, pid: Any) -> Any:
        """Persistent ids reference objects outside the file: never resolved.

        Raises:
            UnsafePickleError: Always.
        """
        raise UnsafePickleError(
            f'Refusing to load {self.what}: it refers to the external (persistent) '
            f'object {pid!r}; data pickles may hold only builtin containers and scalars.')


def safe_pickle_load(file: Union[str, os.PathLike, IO[bytes]],
                     name: Optional[str] = None,
                     encoding: str = 'ASCII') -> Any:
    """Unpickle a data file with :class:`RestrictedUnpickler`.

    Args:
        file (str | PathLike | IO[bytes]): A local path, a URI of an MMEngine file backend
            (``s3://...``) or an open binary file.
        name (str, optional): How the file is named in errors. Defaults to the path, or the
            file object's ``name``.
        encoding (str): Decoding of Python 2 ``str`` objects. Defaults to ``'ASCII'``.

    Returns:
        The unpickled builtin containers and scalars.

    Raises:
        FileNotFoundError: The path does not exist.
        UnsafePickleError: The pickle refers to a global outside :data:`ALLOWED_GLOBALS`.
        PickleFileError: The file is empty, truncated or not a pickle.
    """
    if isinstance(file, (str, os.PathLike)):
        stream = io.BytesIO(fileio.get(os.fspath(file)))
        name = name or os.fspath(file)
    else:
        stream = file
        name = name or getattr(file, 'name', None) or '<stream>'
    return _restricted_load(stream, f'pickle file {name}', encoding)


def _restricted_load(stream: IO[bytes], what: str, encoding: str) -> Any:
    """Run :class:`RestrictedUnpickler`; every failure names ``what`` and its cause."""
    try:
        return RestrictedUnpickler(stream, what, encoding=encoding).load()
    except UnsafePickleError:
        raise
    except EOFError as err:
        seekable = getattr(stream, 'seekable', None)
        empty = seekable is not None and seekable() and stream.tell() == 0  # nothing was read
        reason = 'the file is empty' if empty else 'the data ends early (truncated file)'
        raise PickleFileError(f'Cannot read {what}: {reason}.') from err
    except (pickle.UnpicklingError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            UnicodeDecodeError) as err:
        raise PickleFileError(f'Cannot read {what}: {type(err).__name__}: {err}. The file is '
                              'damaged or is not a pickle.') from err


class SafePickleHandler(PickleHandler):
    """MMEngine's pickle file handler, loading with :class:`RestrictedUnpickler`.

    ``mmengine.load(path, file_format='pkl')`` reads the bytes itself and hands the handler an
    anonymous stream, so errors raised here cannot name the path; readers of our own
    (:class:`~mmgen_vision.datasets.RefCocoSegDataset`) call :func:`safe_pickle_load` with the
    path instead. Dumping is the stock :class:`~mmengine.fileio.handlers.PickleHandler`'s.
    """

    def load_from_fileobj(self, file: IO[bytes], **kwargs) -> Any:
        """Unpickle ``file`` safely; ``encoding`` is the only option (as for ``pickle.load``).

        Raises:
            TypeError: Other keyword arguments (they would configure the stock unpickler).
        """
        unknown = sorted(set(kwargs) - {'encoding'})
        if unknown:
            raise TypeError(f'safe pickle loading takes only the "encoding" option, got {unknown}')
        name = getattr(file, 'name', None)
        what = f'pickle file {name}' if name else 'the pickle read by mmengine.load'
        return _restricted_load(file, what, kwargs.get('encoding', 'ASCII'))


def install_safe_pickle_handler() -> None:
    """Make ``mmengine.load`` read ``.pkl`` / ``.pickle`` files with the restricted unpickler.

    Idempotent. Protects every reader that goes through MMEngine's file handlers, e.g. the
    split file of the stock ``mmdet.RefCocoDataset``.
    """
    fileio.register_handler(['pkl', 'pickle'])(SafePickleHandler)
