"""The languages of a conversation: which one the customer writes in, and how values read in it.

`detection` decides a conversation's language from the customer's own words; `wording` loads
the per-language words of `wording.yml`; `phrasing` turns dates, waits, amounts, lists and
country names into text of one language (CLDR data through Babel). Knows nothing of Rasa.
"""

from bot.language.detection import LanguageChoice, LanguageDetector
from bot.language.phrasing import Phrasing
from bot.language.wording import Wording, WordingError, load_wording

__all__ = [
    "LanguageChoice",
    "LanguageDetector",
    "Phrasing",
    "Wording",
    "WordingError",
    "load_wording",
]
