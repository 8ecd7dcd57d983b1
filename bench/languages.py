"""Benchmark for the closing notes: how well the bot tells and keeps the customer's language.

Prints:
- language detection accuracy on each language's held-apart NLU file (every example, and the
  short ones of at most 3 words), as `bot.language.LanguageDetector` reads a message on its
  own, and how often a short message would wrongly switch a conversation already settled in
  its language (the rule keeps it: the target is 0);
- wrong-language replies: every test story (tests/stories/*.yml) played through the running
  bot (REST channel, a fresh conversation per story, frozen at night); each bot reply's
  language is read by the detector and compared with the language the customer wrote the
  turn in (the story file's language, switched where a story's customer switches). Target 0.

Run with `.venv/bin/python bench/languages.py` (a few minutes: one model load). Needs a
trained model in models/ (`nightdesk train`). Nothing here is asserted.
"""

from __future__ import annotations

import re
import sys
import tempfile
import uuid
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from bot.language import LanguageDetector  # noqa: E402
from bot.orders.seed import seed_demo_shop  # noqa: E402
from bot.runtime.processes import running_servers  # noqa: E402
from bot.runtime.shell import send  # noqa: E402
from bot.runtime.training import train_if_needed  # noqa: E402
from bot.settings import get_brand, load_settings  # noqa: E402
from bot.store import create_db_engine  # noqa: E402

_ENTITY = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
NIGHT = "2026-12-02T23:00:00+01:00"


def examples(path: Path) -> list[str]:
    """The texts of an NLU file, entity marks removed."""
    found = []
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            if line.startswith("- "):
                found.append(_ENTITY.sub(r"\1", line[2:]).strip())
    return found


def detection(detector: LanguageDetector) -> None:
    print("== language detection on the held-apart NLU files")
    for test_file in sorted((PROJECT / "tests" / "nlu").glob("test_nlu_*.yml")):
        language = test_file.stem.removeprefix("test_nlu_")
        texts = examples(test_file)
        short = [t for t in texts if len(t.split()) <= 3]
        right = sum(detector.language_of(t) == language for t in texts)
        raw = sum(detector.detect(t)[0] == language for t in texts)
        short_right = sum(detector.detect(t)[0] == language for t in short)
        others = [code for code in detector.languages if code != language]
        wrong_switch = sum(
            detector.choose(t, language, settled=True).language != language for t in short
        )
        print(f"{language}: {len(texts)} messages; detector's first choice right "
              f"{raw / len(texts):.1%}; a first message decides right {right / len(texts):.1%}"
              f" (unclear ones take the default {detector.languages[0]})")
        print(f"{language}: {len(short)} short messages (<= 3 words): detector right "
              f"{short_right / max(len(short), 1):.1%}; a settled {language} conversation "
              f"switched to {'/'.join(others)} by one of them: {wrong_switch}")


def story_turns(path: Path) -> list[tuple[str, list[str]]]:
    """(story name, customer texts) of a test stories file."""
    stories = yaml.safe_load(path.read_text(encoding="utf-8")).get("stories") or []
    found = []
    for story in stories:
        texts = [_ENTITY.sub(r"\1", str(step["user"]).strip())
                 for step in story.get("steps") or [] if "user" in step]
        found.append((story["story"], texts))
    return found


def replies_language(detector: LanguageDetector, settings, brand) -> None:
    print("== wrong-language replies over the test stories (played through the bot)")
    total = wrong = 0
    for path in sorted((PROJECT / "tests" / "stories").glob("*.yml")):
        file_language = "it" if path.stem.endswith("_it") else "en"
        for name, texts in story_turns(path):
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            expected = file_language
            settled = False
            for number, text in enumerate(texts):
                hint = file_language if number == 0 else None
                choice = detector.choose(text, expected, settled)
                expected, settled = choice.language, choice.settled
                for reply in send(settings.rasa_url, sender, text, None, hint):
                    words = reply.get("text") or ""
                    if len(re.findall(r"[^\W\d_]+", words)) < 4:
                        continue  # too short to tell (a case number, a link)
                    said, confidence, _ = detector.detect(words)
                    total += 1
                    if said != expected:
                        wrong += 1
                        print(f"   wrong language in {path.name} / {name}: expected "
                              f"{expected}, read {said} ({confidence:.2f}): {words[:90]!r}")
    print(f"replies checked: {total}; in the wrong language: {wrong}")


def main() -> None:
    brand = get_brand()
    detector = LanguageDetector(brand.languages)
    detection(detector)
    with tempfile.TemporaryDirectory(prefix="nightdesk-languages-") as tmp_name:
        tmp = Path(tmp_name)
        settings = load_settings({
            "NIGHTDESK_HOME": str(PROJECT),
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "RASA_URL": "http://127.0.0.1:16105",
            "ACTION_SERVER_URL": "http://127.0.0.1:16155/webhook",
            "RASA_AUTH_TOKEN": uuid.uuid4().hex,
            "NIGHTDESK_FROZEN_NOW": NIGHT,
        })
        model = train_if_needed(settings)
        seed_demo_shop(create_db_engine(settings.database_url), settings.clock()())
        with running_servers(settings, model, log_dir=tmp / "logs", timeout=600):
            replies_language(detector, settings, brand)


if __name__ == "__main__":
    main()
