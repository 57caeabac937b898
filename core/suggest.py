"""Did-you-mean suggestions: the one rule behind every "did you mean 'x'?" of the workbench.

A name that is not found (a key of ``study.yaml``, a bundled instrument id, a data
column, a wave or arm label, a notebook parameter, an answer label) is compared with
the names that would have been accepted, in three steps:

1. a candidate that differs only by case and whitespace (``" Endline"`` and
   ``endline``, ``SID`` and ``sid``; full-width spaces count as whitespace) is the
   suggestion, and the message says so;
2. otherwise the closest candidate by :class:`difflib.SequenceMatcher` ratio, when that
   ratio is at least :data:`CUTOFF`;
3. otherwise the same comparison with both sides case-folded.

:data:`CUTOFF` is 0.6, :func:`difflib.get_close_matches`' default. It keeps every
suggestion the tests ask for: the least similar of them is ``rsse`` -> ``rses``
(ratio 0.75), and an answer ``有点同意`` -> the label ``同意`` (0.67) needs a cutoff at
most 0.67. At 0.6 a three-letter typo of a five-letter name is still suggested
(``opn`` -> ``open``: 0.86) while unrelated names are not (``zzzz`` -> nothing).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

#: Least :class:`difflib.SequenceMatcher` ratio of a suggestion (difflib's default).
CUTOFF = 0.6

_SPACE = re.compile(r"[\s\u3000]+")


def loose_key(text) -> str:
    """``text`` with case and every whitespace character ignored (the step-1 comparison).

    Examples
    --------
    >>> loose_key(" End line\u3000"), loose_key("SID")
    ('endline', 'sid')
    """
    return _SPACE.sub("", str(text)).casefold()


def closest(word, candidates: Iterable) -> str | None:
    """The candidate ``word`` most likely means, or None (the rule of the module docstring).

    Parameters
    ----------
    word : str
        The name that was not found.
    candidates : iterable
        The names that would have been accepted (compared as text).

    Returns
    -------
    str or None

    Examples
    --------
    >>> closest("covariate", ["type", "covariates", "subgroups"])
    'covariates'
    >>> closest("Baseline ", ["baseline", "endline"]), closest("zzz", ["baseline"])
    ('baseline', None)
    """
    if word is None:
        return None
    cands = [str(c) for c in candidates]
    w = str(word)
    key = loose_key(w)
    for c in cands:
        if loose_key(c) == key:
            return c
    m = difflib.get_close_matches(w, cands, n=1, cutoff=CUTOFF)
    if m:
        return m[0]
    folded = {c.casefold(): c for c in cands}
    m = difflib.get_close_matches(w.casefold(), list(folded), n=1, cutoff=CUTOFF)
    return folded[m[0]] if m else None


def did_you_mean(word, candidates: Iterable) -> str:
    """``"; did you mean 'x'?"`` for the :func:`closest` candidate, or ``""``.

    A candidate that differs from ``word`` only by case and whitespace adds
    ``" (differs only by case/spaces)"``. Nothing is suggested when there is no
    close candidate, or when it is ``word`` itself.

    Examples
    --------
    >>> did_you_mean("treatmnet", ["control", "treatment"])
    "; did you mean 'treatment'?"
    >>> did_you_mean("Control ", ["control", "treatment"])
    "; did you mean 'control'? (differs only by case/spaces)"
    >>> did_you_mean("zzzz", ["pii", "min_cell"])
    ''
    """
    s = closest(word, candidates)
    if s is None or s == str(word):
        return ""
    loose = " (differs only by case/spaces)" if loose_key(s) == loose_key(word) else ""
    return f"; did you mean {s!r}?{loose}"
