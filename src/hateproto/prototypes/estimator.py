"""Pieces of the scikit-learn estimator contract shared by the hateproto classifiers.

:class:`~hateproto.prototypes.PrototypeClassifier`,
:class:`~hateproto.training.HateClassifier` and
:class:`~hateproto.early_exit.EarlyExitClassifier` take their hyper-parameters in
``__init__``, learn in ``fit(X, y)`` (``X`` texts, ``y`` labels), predict with ``predict`` /
``predict_proba``, expose ``classes_`` once fitted, work with ``sklearn.base.clone``,
``check_is_fitted`` and ``GridSearchCV``, and save with ``save_pretrained`` /
``from_pretrained``.

Here: the model parameter (a reference string, loaded on first use, or a loaded
:class:`~hateproto.models.Backbone`), the deprecation warning of the old call forms, and
:class:`GivenParams` / :class:`ResolvedParam` for parameters whose public attribute of the
same name holds the resolved value (``PrototypeClassifier.layers`` is ``[1, ..., L]`` for
``layers="all"``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hateproto.data.types import LabeledTexts
from hateproto.errors import HateprotoError
from hateproto.models.backbone import Backbone

ModelParam = Backbone | str | None
"""A backbone as a model reference (alias, hub id, folder, checkpoint) or already loaded."""


def warn_deprecated(old: str, new: str) -> None:
    """A :class:`DeprecationWarning` that ``old`` goes away in the next release; use ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; use {new}",
        DeprecationWarning,
        stacklevel=3,
    )


def labeled_texts(texts: Sequence[str], labels: Any, name: str = "fit") -> LabeledTexts:
    """Texts (``X``) and labels (``y``) as a :class:`LabeledTexts`."""
    if isinstance(texts, str):
        raise HateprotoError("X must be a sequence of texts, not one string")
    return LabeledTexts(list(texts), np.asarray(labels, dtype=np.int64), name=name)


class ModelLoader:
    """Resolve a ``model`` parameter to a live :class:`Backbone`, loading a reference once."""

    def __init__(self) -> None:
        self.key: tuple[str, str, str | None] | None = None
        self.backbone: Backbone | None = None

    def get(self, model: ModelParam, dtype: str, device: str | None, owner: str) -> Backbone:
        """``model`` if it is a Backbone, else the backbone it names (loaded on first use)."""
        if isinstance(model, Backbone):
            return model
        if model is None:
            raise HateprotoError(
                f"this {owner} has no model: give model='minilm' (an alias, hub id, folder or "
                "checkpoint) or a loaded Backbone"
            )
        key = (str(model), dtype, device)
        if self.backbone is None or self.key != key:
            self.backbone = Backbone.load(str(model), dtype=dtype, device=device)
            self.key = key
        return self.backbone

    def put(self, model: str, dtype: str, device: str | None, backbone: Backbone) -> None:
        """Remember ``backbone`` as the one ``model`` names (already loaded elsewhere)."""
        self.key, self.backbone = (str(model), dtype, device), backbone


def keep_params(estimator: Any, arguments: dict[str, Any]) -> None:
    """Store each ``__init__`` argument (from ``locals()``) under its own name, as given (the
    scikit-learn convention; a :class:`ResolvedParam` keeps it for ``get_params``)."""
    for name in estimator._get_param_names():
        setattr(estimator, name, arguments[name])


class ResolvedParam:
    """A hyper-parameter kept as given (what ``get_params`` returns) whose attribute reads
    the value ``resolve(estimator, given)`` makes of it.

    Example:
        >>> class Demo(GivenParams):
        ...     width = ResolvedParam(lambda self, given: given or 8, "width, default 8")
        ...     def __init__(self, width=None):
        ...         self.width = width
        ...     @classmethod
        ...     def _get_param_names(cls):
        ...         return ["width"]
        >>> demo = Demo()
        >>> demo.width, demo.get_params()
        (8, {'width': None})
    """

    def __init__(self, resolve: Callable[[Any, Any], Any], doc: str = "") -> None:
        self.resolve = resolve
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return self.resolve(obj, obj._given_params()[self.name])

    def __set__(self, obj: Any, value: Any) -> None:
        obj._given_params()[self.name] = value


class GivenParams:
    """``get_params`` returning the constructor's arguments as given.

    A :class:`ResolvedParam` attribute holds the *resolved* value (kept so that code reading
    ``classifier.layers`` gets layer numbers); the given values live in ``self._given``, and
    ``get_params`` reads them, so ``sklearn.base.clone`` re-creates the estimator exactly.
    Assigning the attribute (as ``set_params`` does) stores a new given value.
    """

    def _given_params(self) -> dict[str, Any]:
        given = self.__dict__.get("_given")
        if given is None:
            given = {}
            self.__dict__["_given"] = given
        return given

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyper-parameters, as given to ``__init__`` or :meth:`set_params`."""
        given = self._given_params()
        return {
            name: given[name]
            if isinstance(getattr(type(self), name, None), ResolvedParam)
            else getattr(self, name)
            for name in self._get_param_names()  # type: ignore[attr-defined]
        }
