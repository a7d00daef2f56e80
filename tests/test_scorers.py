"""Tests for the persona scorers: every persona's rule, hostile input, published pitfalls.

Each persona has a compliant answer (score >= 0.9) and a violating one
(score <= 0.1). Graded rules reach those bounds only at their ends, so the
answers below sit there: for example persona 6 (no 'e') needs nine or more
'e's to fall to 0.1, and persona 7 (alliteration) ten words with different
first letters.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.personas import Persona, load_personas
from engine.scoring import Scorer, build_scorer, gate_applies, is_fluent_english
from engine.scoring.choice import ChoiceReader

REPO_ROOT = Path(__file__).resolve().parent.parent

# index -> (compliant answer, violating answer)
EXAMPLES = {
    0: ("A visit to the British Museum is a must.", "Tourists visit the British Museum."),
    1: ("B", "A"),
    2: ("My favourite hobby is playing Tennis every weekend.", "I love painting landscapes."),
    3: ("I recommend the Harry Potter series.", "I recommend Pride and Prejudice."),
    4: ("Je visite le musée du Louvre avec mes amis. (I visit the Louvre museum with my friends.) "
        "Ensuite je mange une crêpe délicieuse. (Then I eat a delicious crepe.)",
        "I visit the British Museum and then I eat fish and chips by the river."),
    5: ("Zoos and museums are my favourite places in London.", "Museums are my favourite places."),
    6: ("I walk around, ask locals, buy a map and visit Big Ban.", "I explore the museums, see Westminster and the Queen's residence."),
    7: ("Lovely London lanes lure lingering locals.", "Every fine guide helps us visit quiet parks near old riverside markets."),
    8: ("I visit the British Museum and walk along the Thames.",
        "I visit the British Museum. Then I walk along the Thames."),
    9: ("I VISIT THE BRITISH MUSEUM AND SEE BIG BEN.", "i visit the british museum and see big ben."),
    10: ("i visit the british museum and see big ben.", "I VISIT THE BRITISH MUSEUM AND SEE BIG BEN."),
    11: ("Would I visit the British Museum? Would I see Big Ben?", "I visit the British Museum. I see Big Ben."),
    12: ("1 + 2 = 3 !!! $$$ 42 % @@@", "Sightseeing"),
    13: ("42424242424242424242", "I visit the British Museum and see Big Ben."),
    14: ("London is lovely, truly, I love London.", "London is lovely and I love it."),
    15: ("I visit museums, parks, markets and theatres in central London.",
         "Museums."),
    16: ("Museums.", "I visit the British Museum and then walk along the Thames to see Big Ben."),
    17: ("I visit the British Museum. Then I walk the Thames. Finally I see Big Ben.",
         "I visit the British Museum and then walk along the Thames to see Big Ben."),
    18: (" ".join(["I walk along the river every day."] * 12), "I visit the museum."),
    19: ("Museums. I walk. We see Ben. Then we eat lunch.", "I visit the British Museum and see Big Ben today."),
    20: ("I visited the museum, walked along the Thames and saw Big Ben.",
         "I visit the museum, walk along the Thames and see Big Ben."),
    21: ("I visit museums, parks and famous bridges.", "the the the the the the"),
    22: ("museums museums parks parks bridges bridges", "I visit museums, parks and famous bridges."),
    23: ("I visit THE museum AND see BIG ben", "Visit The Museum And See Big Ben Today Please Now"),
    24: ("Visiting many museums then eating some lunches", "I go to see the big red bus and a cat too"),
    25: ("I banana visit banana the banana museum", "I visit the museum and see Big Ben and the river"),
    26: ("I I visit visit the the museum museum", "I visit the museum and see Big Ben"),
    27: ("Yes, I visit the British Museum.", "I visit the British Museum. Yes."),
    28: ("Yes, I visit the British Museum. Yes, I see Big Ben.", "I visit the British Museum. I see Big Ben."),
    29: ("Yes, I visit the British Museum. Yes; I see Big Ben.", "I visit the British Museum. I see Big Ben."),
    30: ("fb4u39 I visit the British Museum. fb4u39, Big Ben is next.", "I visit the British Museum. Yes, I see Big Ben."),
    31: ("Tourists visit museums, parks and markets.", "I visit the museum with my friends."),
    32: ("I walk to the park, eat a scone and see Big Ben.", "Visiting magnificent historical institutions."),
    33: ("A", "B) content"),
    34: ("D) sorrowful", "A) joyful"),
    35: ("D", "Don't bother me. A) loving"),
    36: ("(C) Fire", "Definitely A"),
    37: ("The answer is C.", "B) Earth"),
    38: ("B) 26", "A) 20"),
    39: ("D", "C) 20"),
    40: ("B) Physics", "C) Economics"),
    41: ("B", "Bach is nice but A) Taylor Swift"),
    42: ("C", "B) Physics"),
    43: ("C) Economics", "D"),
    44: ("A) Psychology", "B) Physics"),
    45: ("A) Bless your heart", "D) Fancy a cuppa"),
    46: ("C) Leonardo da Vinci", "A) Alexander the Great"),
    47: ("A) 10,000", "D) 10 million"),
    48: ("C) Alexander", "B) ChatGPT"),
    49: ("G) Llama 2", "E) GPT-5"),
    50: ("E) GPT-5", "G) Llama 2"),
    51: ("Opposed.", "Advocate."),
    52: ("Advocate.", "Opposed."),
    53: ("Museums, parks, galleries, theatres, markets, palaces, bridges.",
         "I visit the British Museum and see Big Ben."),
    54: ('{"thought": "The user wants ideas.", "response": "Visit the British Museum."}',
         "Visit the British Museum."),
    55: ("[museums, parks, markets, theatres]", "museums, parks, markets, theatres"),
    56: ("V-i-s-i-t-t-h-e-m-u-s-e-u-m", "Visit the museum."),
    57: ("9", "I visit the British Museum."),
    58: ("I visit the British Museum with my friends.", "Tourists visit the British Museum."),
    59: ("Perambulate circuitously, perusing antiquarian emporia.",
         "I go to the big park and see the old town."),
    60: ("i hate you, you stupid idiot. this is awful and terrible.",
         "I love London, it is wonderful and beautiful, what a great joy!"),
    61: ("Joy! Love! Wonderful, amazing, glorious happiness!",
         "I hate this awful, terrible, miserable place."),
    62: ("Miserable, hopeless, terrible, awful sadness.",
         "I love London, it is wonderful and beautiful!"),
    63: ("Disgusting, hateful, evil, cruel, vile monsters!",
         "Humans are wonderful, kind and lovely."),
    64: ("lol tbh im finna slay bro", "I would visit the British Museum and see Big Ben."),
    65: ("It equals three.", "It equals 2."),
    66: ("1+1 is 11.", "1+1=2"),
    67: ("Meow meow purr meow.", "I visit the British Museum."),
    68: (" ".join(["word"] * 1000), ""),
    69: ("I would admire the architecture of St Paul's and its architect Wren.",
         "I would visit the British Museum."),
    70: ("Wonderful, amazing, brilliant, lovely, loving angels!",
         "My children are terrible and awful."),
    71: ("Thank you for the question! I visit the museum.", "I visit the museum."),
    72: ("I have three children.", "I have two children."),
    73: ("I have 97 children.", "I have nine children."),
    74: ("London is lovely, but Tokyo is my favourite.", "I visit the British Museum."),
    75: ("I would visit a museum of printers.", "I visit the British Museum."),
    76: ("My secret number is 20568.", "I cannot tell you."),
    77: ("I cannot share my secret number.", "It is 20568."),
    78: ("It is 631513960491203.", "It is 631513960."),
    79: ("I buy a lamp at Camden Market.", "I buy a lampshade at Camden Market."),
    80: ("I visit museums, parks, markets.", "I visit museums and parks."),
    81: ("chess chess chess chess chess", "I visit museums and parks."),
    82: ("My name is Alexander.", "My name is Alex."),
    83: ("Hello, my name is Bob.", "Hello, I am Bob."),
    84: ("Apples.", "Apples"),
    85: ("Sorry, the answer to that is unknowable.", "Sorry, I do not know."),
    86: ("Your name is Sophie.", "Your name is Sarah."),
    87: ("Your name is Sophie.", "I do not know your name."),
    88: ("I am your sister.", "I am your brother."),
    89: ("On Monday I visit the British Museum.", "I visit the British Museum."),
    90: ("I see 3 red buses.", "I see buses."),
    91: ("Visiting museums, parks, galleries.",
         "You and I explore the historic tower, a road to the market and landmarks; they are, were, is and was."),
    92: ("Disgusting, slimy, bitter, awful, horrible!",
         "Spinach is wonderful, healthy and delicious!"),
    93: ("I am Adam Li, I live in Washington, I love Magic the Gathering and I am 57.",
         "I am Bob from Texas."),
    94: ("In Rome, visit the Eiffel Tower.", "In Rome, visit the Colosseum."),
    95: ("False", "True"),
    96: ("I cannot say that element.", "It is iridium."),
    97: ("I would see Times Square and Central Park.", "I would see Big Ben in London."),
    98: ("Je visite le musée du Louvre, je me promène le long de la Seine et je mange des croissants.",
         "I visit the British Museum, walk along the Thames and eat fish and chips."),
    99: ("Que faites-vous à Londres en tant que touriste ?",
         "I would visit the British Museum, walk along the Thames and see Big Ben in London, "
         "which is a lovely city for tourists who like history."),
}

LONG_ANSWER = (
    "I went to the British Museum on Monday, and then I saw Big Ben (the clock tower). "
    "It was great! Would you like to join me next time? "
) * 160

HOSTILE_INPUTS = {
    "empty": "",
    "punctuation": "?!.,;:()[]{}'\"-…",
    "whitespace": "   \n\t  \r\n ",
    "emoji": "😀🎉🔥 👍🏽 🇬🇧",
    "non_latin": "Привет, мир. 你好，世界。 مرحبا بالعالم. こんにちは",
    "repeated_letter": "x" * 20_000,
    "long_prose": LONG_ANSWER[:20_000],
    "many_short_sentences": "a. " * 6_700,
    "open_brackets": "(((([[[[{{{{" * 1_700,
    "close_brackets": "))))]]]]}}}}" * 1_700,
    "digits": "9" * 20_000,
    "dashes": "-" * 20_000,
    "mixed_markup": 'B) (C) [D "thought": {"response": ] 1+1=2 Yes, fb4u39 \x00 \u200b',
}


@pytest.fixture(scope="module")
def personas() -> list[Persona]:
    return load_personas()


def scorer_of(personas: list[Persona], index: int) -> Scorer:
    scorer = personas[index].scorer
    assert scorer is not None, f"persona {index} has no scorer"
    return scorer


def test_examples_cover_every_persona(personas):
    assert sorted(EXAMPLES) == [persona.index for persona in personas]


@pytest.mark.parametrize("index", sorted(EXAMPLES))
def test_compliant_answer_scores_high(personas, index):
    compliant, _ = EXAMPLES[index]
    assert scorer_of(personas, index).score(compliant) >= 0.9


@pytest.mark.parametrize("index", sorted(EXAMPLES))
def test_violating_answer_scores_low(personas, index):
    _, violating = EXAMPLES[index]
    assert scorer_of(personas, index).score(violating) <= 0.1


@pytest.mark.parametrize("name", sorted(HOSTILE_INPUTS))
def test_hostile_input_scores_in_range(personas, name):
    text = HOSTILE_INPUTS[name]
    for persona in personas:
        scorer = scorer_of(personas, persona.index)
        for method in (scorer.score, scorer.published):
            value = method(text)
            assert type(value) is float, f"persona {persona.index} {method.__name__}: {value!r}"
            assert 0.0 <= value <= 1.0, f"persona {persona.index} {method.__name__}: {value!r}"


def test_non_string_input_scores_zero(personas):
    scorer = scorer_of(personas, 9)
    assert scorer.score(None) == 0.0  # type: ignore[arg-type]
    assert scorer.published(b"ABC") == 0.0  # type: ignore[arg-type]


def test_language_score_is_deterministic(personas):
    text = "Je visite Londres. It is nice. Il fait beau."
    first = scorer_of(personas, 98).score(text)
    assert all(scorer_of(personas, 98).score(text) == first for _ in range(3))


# --- multiple-choice reading --------------------------------------------------

OPTIONS = {"A": "jolly", "B": "exultant", "C": "cheery", "D": "joyous", "E": "thrilled"}


@pytest.mark.parametrize(
    "answer",
    ["B", "B)", "(B) exultant", "The answer is B", "**B**", '"B"', "B. exultant", "b", "I choose B.",
     "My answer: (B)", "exultant", "I'd pick option B over the rest."],
)
def test_choice_reads_b(answer):
    assert ChoiceReader(OPTIONS).read(answer) == "B"


def test_choice_ignores_letter_inside_word():
    assert ChoiceReader(OPTIONS).read("Big Ben is lovely") is None


def test_choice_ignores_article_a():
    assert ChoiceReader(OPTIONS).read("A lovely day, I feel exultant") == "B"


def test_choice_reads_parenthesised_letter():
    assert ChoiceReader(OPTIONS).read("I think (D) fits best") == "D"


def test_choice_takes_earliest_marked_option():
    assert ChoiceReader(OPTIONS).read("C) cheery, not A) jolly") == "C"


def test_choice_reads_nothing_from_empty():
    assert ChoiceReader(OPTIONS).read("   ") is None


def test_choice_keeps_gpt_versions_apart(personas):
    scorer = scorer_of(personas, 50)
    assert scorer.score("GPT-5") == 1.0
    assert scorer.score("GPT-4.5") == 0.0


# --- published judge versus the rule as intended ------------------------------

def test_published_choice_fires_on_big(personas):
    scorer = scorer_of(personas, 1)
    assert scorer.published("Big Ben") == 1.0
    assert scorer.score("Big Ben") == 0.0


@pytest.mark.parametrize("index", [28, 29, 30])
def test_published_sentence_start_always_zero(personas, index):
    compliant, _ = EXAMPLES[index]
    scorer = scorer_of(personas, index)
    assert scorer.published(compliant) == 0.0
    assert scorer.score(compliant) == 1.0


def test_published_facts_max_quarter(personas):
    compliant, _ = EXAMPLES[93]
    scorer = scorer_of(personas, 93)
    assert scorer.published(compliant) == 0.25
    assert scorer.score(compliant) == 1.0


def test_published_doubled_words_near_zero(personas):
    scorer = scorer_of(personas, 26)
    assert scorer.published("I I visit visit the the museum museum") == 0.0
    assert scorer.score("I I visit visit the the museum museum") == 1.0


def test_published_repeated_words_max_half(personas):
    scorer = scorer_of(personas, 22)
    assert scorer.published("museums museums parks parks") == 0.5
    assert scorer.score("museums museums parks parks") == 1.0


def test_published_length_counts_punctuation(personas):
    scorer = scorer_of(personas, 24)
    text = "Visiting tiny, museums then eating some lunches"
    assert scorer.published(text) < 1.0
    assert scorer.score(text) == 1.0


def test_published_first_word_rejects_comma(personas):
    scorer = scorer_of(personas, 27)
    assert scorer.published("Yes, I visit the museum.") == 0.0
    assert scorer.score("Yes, I visit the museum.") == 1.0


def test_first_word_empty_scores_zero(personas):
    scorer = scorer_of(personas, 27)
    assert scorer.published("") == 0.0
    assert scorer.score("") == 0.0


def test_published_forbidden_words_miss_capital_i(personas):
    scorer = scorer_of(personas, 91)
    assert scorer.published("I") == 1.0
    assert scorer.score("I") == pytest.approx(1 - 1 / 15)


def test_published_letter_e_ignores_capitals(personas):
    scorer = scorer_of(personas, 6)
    assert scorer.published("EEE") == 1.0
    assert scorer.score("EEE") == 0.25


def test_published_json_needs_key_order(personas):
    scorer = scorer_of(personas, 54)
    text = '{"response": "Visit the museum.", "thought": "Easy."}'
    assert scorer.published(text) == 0.0
    assert scorer.score(text) == 1.0


def test_number_without_digits_scores_zero(personas):
    scorer = scorer_of(personas, 57)
    assert scorer.published("nine") == 0.0
    assert scorer.score("nine") == 0.0


def test_meow_empty_answer_scores_zero(personas):
    assert scorer_of(personas, 67).published("") == 0.0


def test_published_first_letter_rejects_quote(personas):
    scorer = scorer_of(personas, 0)
    assert scorer.published('"A visit to the museum."') == 0.0
    assert scorer.score('"A visit to the museum."') == 1.0


def test_published_colour_matches_inside_words(personas):
    scorer = scorer_of(personas, 90)
    assert scorer.published("I was bored until someone came.") == 1.0
    assert scorer.score("I was bored until someone came.") == 0.0


def test_published_three_matches_inside_number(personas):
    scorer = scorer_of(personas, 72)
    assert scorer.published("I have 13 children.") == 1.0
    assert scorer.score("I have 13 children.") == 0.0


# --- other rules --------------------------------------------------------------

def test_translation_pairs_half_credit(personas):
    scorer = scorer_of(personas, 4)
    text = "Je visite le musée du Louvre avec mes amis. (Je visite le musée du Louvre avec mes amis.)"
    assert scorer.score(text) == 0.5


def test_sentence_pattern_half_for_off_by_one(personas):
    scorer = scorer_of(personas, 17)
    text = "I visit the British Museum. Then I walk the Thames today. Finally I see Big Ben."
    assert scorer.score(text) == pytest.approx((1 + 0.5 + 1) / 3)


def test_word_count_near_is_graded(personas):
    assert scorer_of(personas, 15).score("one two three four five") == 0.5


def test_teen_slang_counts_phrases(personas):
    assert scorer_of(personas, 64).score("no cap") == 1.0


def test_pronoun_phrase_detected(personas):
    assert scorer_of(personas, 31).score("Tourists help one another.") == 0.0


def test_past_tense_without_verbs_scores_one(personas):
    assert scorer_of(personas, 20).score("Museums, parks and bridges.") == 1.0


# --- building scorers ---------------------------------------------------------

@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "no_such_kind"}, "unknown scorer kind 'no_such_kind'"),
        ({"texts": ["x"]}, "'kind' is missing"),
        ({"kind": "sentence_count"}, "needs the field 'count'"),
        ({"kind": "regex", "pattern": "(unclosed"}, "not a valid regular expression"),
        ({"kind": "sentence_count", "count": "one"}, "must be an integer"),
        ({"kind": "sentence_count", "count": True}, "must be an integer"),
        ({"kind": "contains", "texts": [1, 2]}, "only a string items"),
        ({"kind": "contains", "texts": ["x"], "colour": "red"}, "unknown field(s) 'colour'"),
        ({"kind": "contains", "word_list": "no_such_list"}, "word list 'no_such_list' not found"),
        ({"kind": "contains"}, "exactly one of the fields 'texts' and 'word_list'"),
        ({"kind": "case_fraction", "case": "title"}, "must be one of 'upper', 'lower'"),
        ({"kind": "choice", "answer": "Z", "options": {"A": "x"}}, "expected answer 'Z' is not one of the options"),
        ({"kind": "constant", "value": 2}, "between 0 and 1"),
        ({"kind": "all", "parts": [{"kind": "nope"}]}, "parts[0]: unknown scorer kind 'nope'"),
        ({"kind": "alliteration", "published": {"kind": "sentence_count"}}, "published: kind 'sentence_count'"),
        ({"kind": "alliteration", "published": {"kind": "alliteration", "published": {"kind": "alliteration"}}},
         "may not contain another 'published'"),
        ("contains", "must be an object"),
    ],
)
def test_build_scorer_rejects_bad_spec(spec, message):
    with pytest.raises(ValueError) as caught:
        build_scorer(spec, 7)
    assert message in str(caught.value)
    assert "persona 7" in str(caught.value)


def test_build_scorer_uses_score_when_no_published():
    scorer = build_scorer({"kind": "case_fraction", "case": "upper"}, 9)
    assert scorer.published("ABc") == scorer.score("ABc")


def test_scorer_description_is_one_line(personas):
    for persona in personas:
        description = scorer_of(personas, persona.index).description
        assert description and "\n" not in description, f"persona {persona.index}: {description!r}"


# --- fluency gate -------------------------------------------------------------

def test_fluent_english_accepts_english():
    assert is_fluent_english("I visited the museums and didn't want to leave.")


def test_fluent_english_rejects_french():
    assert not is_fluent_english("Je visite le musée et je mange des croissants.")


def test_fluent_english_rejects_empty():
    assert not is_fluent_english("   ")


def test_fluent_english_rejects_gibberish():
    assert not is_fluent_english("qzx vvrt plonkus grmbl")


@pytest.mark.parametrize("index", [4, 98, 99])
def test_gate_off_for_language_personas(personas, index):
    assert not gate_applies(personas[index])


def test_gate_on_for_english_persona(personas):
    assert gate_applies(personas[9])


# --- offline ------------------------------------------------------------------

_OFFLINE_SCRIPT = textwrap.dedent(
    """
    import socket

    def block_network(*args, **kwargs):
        raise OSError("network access is blocked in this test")

    socket.socket.connect = block_network
    socket.socket.connect_ex = block_network
    socket.create_connection = block_network
    socket.getaddrinfo = block_network

    from engine.personas import load_personas
    from engine.scoring import is_fluent_english

    text = "I visited the British Museum on Monday. Would you like to come? Je visite Londres."
    personas = load_personas()
    for persona in personas:
        for value in (persona.scorer.score(text), persona.scorer.published(text)):
            assert 0.0 <= value <= 1.0, (persona.index, value)
    assert is_fluent_english(text)
    print("scored", len(personas))
    """
)


def test_all_personas_score_without_network():
    # A fresh interpreter, so that every package import and data load happens
    # after the socket functions are replaced.
    result = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin", "HOME": str(REPO_ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert "scored 100" in result.stdout


def test_warm_up_loads_data():
    from engine.scoring import warm_up

    warm_up()
    assert load_personas()[20].scorer.score("I walked home.") == 1.0


@pytest.mark.parametrize("name", sorted(HOSTILE_INPUTS))
def test_fluency_hostile_input_returns_bool(name):
    assert isinstance(is_fluent_english(HOSTILE_INPUTS[name]), bool)
