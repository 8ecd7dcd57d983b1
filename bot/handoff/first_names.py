"""Whether a display name (or what a customer typed as a name) may greet them by name.

A reply may say "Hi Anna" only when the name really looks like a first name: Facebook
display names and the web chat's name field carry e-mail addresses, phone numbers, shop
names and whole sentences ("ciao, quanto costa la spedizione?"), and a public comment
reply must never repeat any of that. `first_name_or_none` is the one rule every channel
uses; anything doubtful gives None, and the reply simply does not use a name.

The rule, for the first word of the name:

* letters only, of a script with upper and lower case (Latin, Greek, Cyrillic), with
  accents, and with single inner apostrophes or hyphens ("Zoë", "José", "D'Amico",
  "Anne-Marie"); 2 to 30 characters;
* not a greeting, a title or a common word ("ciao", "hello", "info", "admin", "shop",
  "test", "Sig", "quanto"), nor an English contraction or an Italian elision ("I'm",
  "l'ordine");
* the whole value looks like a name, not a sentence: at most six words, none of them a
  sentence word such as "è", "the", "my", no punctuation other than the above (a dot only
  after an initial such as "R."), no digits, no "@", no web address, and nothing
  `bot.handoff.redaction.contains_personal_data` catches;
* capitalisation: a word typed all in lower case or all in capitals is given a capital
  letter at the start and after each hyphen or apostrophe ("mario" and "MARIO" give
  "Mario", "anne-marie" gives "Anne-Marie"); a word that starts with a capital keeps its
  own inner capitals ("McKenzie", "DeShawn"); a word that starts in lower case but has
  inner capitals ("iPhone", "mARIO") is not taken for a name.

Emoji-only words after the first one are ignored ("Anna 🌸" gives "Anna"); a name that is
only emoji gives None.
"""

from __future__ import annotations

import re
import unicodedata

from bot.handoff.redaction import contains_personal_data

MIN_CHARS = 2
MAX_CHARS = 30
MAX_WORDS = 6
MAX_INPUT_CHARS = 200
"""Longer values are not names; they are not even scanned."""

_APOSTROPHES = "'’ʼ"
_HYPHENS = "-‐"
_SEPARATORS = _APOSTROPHES + _HYPHENS
_SEPARATOR_SPLIT = re.compile(f"([{re.escape(_SEPARATORS)}])")
_URL = re.compile(
    r"(?i)(?:[a-z][a-z0-9+.-]*://|www\.|\b[\w-]+\.(?:com|it|net|org|eu|de|fr|es|uk|io|co|"
    r"shop|store|info|biz|me|ly|app)\b)"
)

_GREETINGS = frozenset(
    {
        "hi", "hii", "hello", "helo", "hey", "heya", "hiya", "yo", "howdy", "greetings",
        "good", "morning", "evening", "afternoon", "dear", "welcome", "thanks", "thank",
        "thx", "ciao", "ciaoo", "salve", "buongiorno", "buonasera", "buonanotte",
        "buondì", "buondi", "buon", "buona", "ehi", "ehy", "hei", "hallo", "moin",
        "servus", "guten", "hola", "buenos", "buenas", "bonjour", "bonsoir", "salut",
        "coucou", "olá", "ola", "oi", "grazie", "gentile", "gentilissimi", "egregio",
        "spettabile", "spett", "pronto",
    }
)
"""Greetings and salutations (it, en and the neighbours'): a name field often starts so."""

_TITLES = frozenset(
    {
        "mr", "mrs", "ms", "miss", "mister", "sir", "madam", "madame", "dr", "doc", "prof",
        "sig", "signor", "signore", "signora", "signorina", "dott", "dottor", "dottore",
        "dottoressa", "ing", "avv", "geom", "rag", "herr", "frau", "monsieur", "señor",
        "señora",
    }
)
"""Titles: "Sig. Rossi" has no first name to greet."""

_NOT_PEOPLE = frozenset(
    {
        "info", "infos", "informazioni", "information", "admin", "administrator",
        "amministratore", "amministrazione", "shop", "store", "negozio", "boutique",
        "outlet", "test", "tester", "testing", "prova", "demo", "example", "esempio",
        "user", "utente", "customer", "client", "cliente", "clienti", "guest", "ospite",
        "visitor", "visitatore", "anonymous", "anonimo", "anonima", "anon", "unknown",
        "sconosciuto", "sconosciuta", "nobody", "nessuno", "someone", "qualcuno", "name",
        "nome", "firstname", "first", "surname", "cognome", "none", "null", "nil",
        "undefined", "nan", "true", "false", "na", "xxx", "xx", "asd", "asdf", "qwerty",
        "boh", "ok", "okay", "yes", "yeah", "no", "nope", "si", "sì", "team", "staff",
        "support", "supporto", "assistenza", "helpdesk", "service", "servizio", "sales",
        "vendite", "office", "ufficio", "contact", "contatti", "contatto", "page",
        "pagina", "official", "ufficiale", "company", "azienda", "ditta", "srl", "spa",
        "snc", "sas", "ltd", "inc", "llc", "gmbh", "facebook", "instagram", "messenger",
        "whatsapp", "bot", "chatbot", "robot", "mail", "email", "e-mail", "gmail",
        "hotmail", "libero", "phone", "telefono", "cell", "cellulare", "mobile", "me",
        "io", "myself", "you", "tu", "voi", "noi", "we", "help", "aiuto",
        "question", "domanda", "problem", "problema", "order", "ordine", "ordini",
        "shipping", "spedizione", "spedizioni", "delivery", "consegna", "return", "reso",
        "resi", "refund", "rimborso", "payment", "pagamento", "price", "prezzo", "costo",
        "cost", "shoes", "scarpe", "boots", "stivali", "sneakers", "sale", "saldi",
        "promo", "offerta", "sconto", "urgent", "urgente", "please", "prego", "scusa",
        "scusate", "sorry", "hmm", "ehm", "mah", "lol", "wow", "omg",
    }
)
"""Words people put in a name field that are not a person's name."""

_SENTENCE_WORDS = frozenset(
    {
        # Italian
        "è", "e'", "il", "gli", "un", "uno", "una", "miei", "mie", "tuo", "tua", "suo",
        "sua", "vostro", "nostro", "con", "non", "cosa", "come", "dove", "quando", "quanto",
        "quanti", "quanta", "perché", "perche", "quale", "qual", "chi", "sono", "sei",
        "siamo", "hai", "abbiamo", "vorrei", "voglio", "volevo", "posso", "potete", "può",
        "puo", "devo", "costa", "arriva", "arrivato", "ancora", "anche", "già", "però",
        "pero", "mi", "ti", "ci", "nel", "nella", "sul", "sulla", "in",
        # English
        "the", "a", "is", "are", "was", "am", "i", "my", "your", "our", "with", "for",
        "not", "could", "would", "does", "did", "have", "has", "how", "where", "what",
        "when", "why", "which", "who", "want", "need", "this", "that", "it", "to", "of",
        "and", "but", "if", "on", "at", "from", "about",
    }
)
"""Words that make a value a sentence rather than a name, wherever they stand.

Words that are also given names or surnames ("Mia", "Will", "Can", "Per", "Gia", "Al",
"Ma", "Lo", "Do") are not here, nor are name particles ("de", "di", "del", "della",
"van", "von", "bin", "la", "y", "dos").
"""

_PARTICLES = frozenset(
    {"la", "le", "lo", "de", "di", "da", "del", "della", "dal", "dalla", "dei", "degli",
     "van", "von", "der", "den", "du", "des", "y", "e", "el", "dos", "das", "bin", "ibn"}
)
"""Name particles: they stand inside a full name, never first as the name to greet."""

_ENGLISH_CONTRACTIONS = frozenset({"m", "s", "t", "re", "ve", "ll", "d"})
_ITALIAN_ELISIONS = frozenset(
    {
        "l", "c", "m", "t", "s", "v", "un", "dov", "nell", "dell", "all", "dall",
        "sull", "quest", "quell", "com", "cos", "qual", "quand", "ch", "anch", "buon",
        "po", "senz", "tutt", "d",
    }
)
"""Elisions before an apostrophe ("l'ordine", "c'è", "dov'è").

"d" is among them for lower-case words only: "d'amico" typed in lower case could be
"d'accordo", while a capital "D'Amico" or "D'Angelo" is a name.
"""


def _is_emoji_or_symbol(word: str) -> bool:
    """Whether a word has no letters or digits at all (emoji, hearts, stars)."""
    return all(not char.isalnum() for char in word)


def _is_cased_letter(char: str) -> bool:
    return char.isalpha() and (char.isupper() or char.islower() or char.istitle())


def _shape_ok(word: str) -> bool:
    """Letters of a cased script, single inner apostrophes or hyphens, marks after letters."""
    if not word or word[0] in _SEPARATORS or word[-1] in _SEPARATORS:
        return False
    previous = ""
    for char in word:
        if char in _SEPARATORS:
            if previous in _SEPARATORS:
                return False
        elif unicodedata.category(char) == "Mn":
            if not previous or previous in _SEPARATORS:
                return False
        elif not _is_cased_letter(char):
            return False
        previous = char
    return True


def _letters(word: str) -> str:
    return "".join(char for char in word if char.isalpha())


def _capitalised(word: str) -> str | None:
    """The word capitalised sensibly, or None when its capitals say it is not a name."""
    letters = _letters(word)
    if letters.islower() or letters.isupper():
        parts = _SEPARATOR_SPLIT.split(word.lower())
        return "".join(part[:1].upper() + part[1:] for part in parts)
    if word[0].isupper():
        return word
    return None


def _elided_or_contracted(word: str) -> bool:
    """Whether an apostrophe in the word marks an elision or a contraction, not a name."""
    parts = re.split(f"[{_APOSTROPHES}]", word)
    if len(parts) == 1:
        return False
    before, after = parts[0].casefold(), parts[-1].casefold()
    if after in _ENGLISH_CONTRACTIONS or after in {"è", "e"}:
        return True
    if before == "d":
        return word[0].islower()
    return before in _ITALIAN_ELISIONS


def _common(word: str) -> bool:
    key = word.casefold().replace("’", "'").replace("ʼ", "'")
    return (key in _GREETINGS or key in _TITLES or key in _NOT_PEOPLE
            or key in _SENTENCE_WORDS or key in _PARTICLES)


def _name_word(word: str) -> bool:
    """A word that may stand in a full name after the first one ("Rossi", "R.", "de")."""
    if word.endswith(".") and len(word) <= 3:
        word = word[:-1]
    return _shape_ok(word) and word.casefold() not in _SENTENCE_WORDS


def first_name_or_none(raw: str | None) -> str | None:
    """The first name to greet someone by, from a display name; None when there is none.

    Args:
        raw: a display name ("Mario Rossi"), a profile's first name, or what a customer
            typed into a name field; None or anything that is not a string gives None.

    Returns:
        The first word, capitalised sensibly ("mario rossi" gives "Mario"), when the value
        looks like a person's name (see the module's rule), else None.
    """
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFC", raw).strip()
    if not text or len(text) > MAX_INPUT_CHARS:
        return None
    if "@" in text or any(char.isdigit() for char in text) or _URL.search(text):
        return None
    if contains_personal_data(text):
        return None
    words = [word for word in text.split() if not _is_emoji_or_symbol(word)]
    if not words or len(words) > MAX_WORDS:
        return None
    first, rest = words[0], words[1:]
    if not _shape_ok(first) or not MIN_CHARS <= len(first) <= MAX_CHARS:
        return None
    if len(set(first.casefold())) == 1 or re.search(r"(.)\1\1", first.casefold()):
        return None
    if _common(first) or _elided_or_contracted(first):
        return None
    if not all(_name_word(word) for word in rest):
        return None
    name = _capitalised(first)
    if name is None or contains_personal_data(name):
        return None
    return name
