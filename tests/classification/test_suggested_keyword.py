"""'Create a rule' from an unclassified title suggests its distinctive words (rules are
keywords, never whole titles)."""

import pytest

from classification.words import suggested_keyword


@pytest.mark.parametrize(
    ("title", "dimension", "keyword"),
    [
        ("Senior Director of Marketing Operations", "department", "Marketing Operations"),
        ("Senior Director of Marketing Operations", "seniority", "Senior Director"),
        ("Sr. Solutions Engineer", "department", "Solutions Engineer"),
        ("Sr. Solutions Engineer", "seniority", "Sr"),
        ("VP of Sales", "department", "Sales"),
        ("VP of Sales", "seniority", "VP"),
        ("Head of Growth", "department", "Growth"),
        ("Technical Project Manager II", "department", "Technical Project"),
        ("Technical Project Manager II", "seniority", "Manager II"),
        ("Astronaut", "department", "Astronaut"),
        ("Astronaut", "seniority", "Astronaut"),  # nothing senior in it: the whole title
        ("CEO", "department", "CEO"),
        ("Leiter Vertrieb", "department", "Leiter Vertrieb"),
        ("Directeur général", "department", "Directeur général"),  # not ASCII: as written
    ],
)
def test_it_suggests_the_distinctive_words(title, dimension, keyword):
    assert suggested_keyword(title, dimension) == keyword
