"""What a person typed, made into plain search terms: never query syntax, always bounded.

Words are runs of letters and digits in any script (`\\w`), so quotes, `-`, `*`, `:`,
`NEAR(...)`, column filters and parentheses can neither raise nor change the meaning. Common
English words ("how do I …") are dropped unless nothing else is left, so a question
finds the pages that hold its subject.
"""

from __future__ import annotations

import re

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
MAX_TERM_CHARS = 40
_WORD = re.compile(r"\w+")
_STOPWORD_TEXT = (
    "a about an and are as at be by can do does for from get got how i if in into is it "
    "me my of on or our should so that the their there this to use using we what when "
    "where which who why will with you your"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def terms_of(query: str) -> list[str]:
    """The query's search terms, lowercased, each once, in order."""
    words = [w.lower()[:MAX_TERM_CHARS] for w in _WORD.findall(query[:MAX_QUERY_CHARS])]
    words = [w.strip("_") for w in words if w.strip("_")]
    unique = list(dict.fromkeys(words))
    meaningful = [w for w in unique if w not in STOPWORDS]
    return (meaningful or unique)[:MAX_TERMS]
