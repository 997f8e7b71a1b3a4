"""trialdesk.interop.ctgov.split_eligibility on real-looking CT.gov eligibility texts."""

from hypothesis import given, settings
from hypothesis import strategies as st

from trialdesk.interop.ctgov import EligibilityText, split_eligibility

# NCT05331872 as the API renders it (bullets "*"), text from the seed listing.
NCT05331872 = (
    "Inclusion Criteria:\n\n"
    "* Aged 18 to 70 years old.\n"
    "* Patients diagnosed of liver cirrhosis: splenomegaly, elevated hepatic enzymes and/or "
    "esophageal varices detected by endoscopy, or liver biopsy demonstrated liver cirrhosis\n"
    "* Be willing to complete the study and sign the consent form.\n\n"
    "Exclusion Criteria:\n\n"
    "* Younger than 18 or older than 70 years old\n"
    "* Recent infection\n"
    "* Patients with history of chronic diseases such as cancer, chronic hepatitis, chronic "
    "kidney disease.\n"
    "* Any clinically significant blood coagulation disorder(s)"
)


def test_bulleted_seed_text():
    result = split_eligibility(NCT05331872)
    assert len(result.inclusion) == 3 and len(result.exclusion) == 4
    assert result.inclusion[0] == "Aged 18 to 70 years old."
    assert result.exclusion[-1] == "Any clinically significant blood coagulation disorder(s)"
    assert result.other == []


def test_numbered_items_with_markdown_escapes():
    text = (
        "Inclusion Criteria:\n\n"
        "1. Age 18-75 years.\n"
        "2. Coagulopathy, including platelet count \\< 50× 10\\^9/ L.\n"
        "10. Serum sodium \\>= 125 mmol/L\n\n"
        "Exclusion Criteria:\n\n"
        "1) Pregnancy\n"
        "2) HIV seropositivity."
    )
    result = split_eligibility(text)
    assert result.inclusion == [
        "Age 18-75 years.",
        "Coagulopathy, including platelet count < 50× 10^9/ L.",
        "Serum sodium >= 125 mmol/L",
    ]
    assert result.exclusion == ["Pregnancy", "HIV seropositivity."]


def test_nested_sub_bullets_stay_with_their_parent():
    text = (
        "Inclusion Criteria:\n\n"
        "* Adequate organ function, defined as:\n\n"
        "  * ANC ≥ 1.5 × 10^9/L\n"
        "  * Platelets ≥ 100 × 10^9/L\n"
        "    * without transfusion within 7 days\n"
        "  * Total bilirubin ≤ 1.5 × ULN\n"
        "* ECOG performance status 0-1\n\n"
        "Exclusion Criteria:\n\n"
        "* Prior therapy:\n"
        "  - anti-CD19 CAR-T\n"
        "* Active CNS disease"
    )
    result = split_eligibility(text)
    assert result.inclusion == [
        "Adequate organ function, defined as:\n"
        "  * ANC ≥ 1.5 × 10^9/L\n"
        "  * Platelets ≥ 100 × 10^9/L\n"
        "    * without transfusion within 7 days\n"
        "  * Total bilirubin ≤ 1.5 × ULN",
        "ECOG performance status 0-1",
    ]
    assert result.exclusion == ["Prior therapy:\n  - anti-CD19 CAR-T", "Active CNS disease"]


def test_lettered_sub_items_under_numbered_parent_at_same_indent():
    text = (
        "Exclusion Criteria:\n"
        "1. Laboratory abnormalities:\n"
        "a. AST > 5 x ULN\n"
        "b. Creatinine > 2 mg/dL\n"
        "2. Pregnancy"
    )
    result = split_eligibility(text)
    assert result.exclusion == [
        "Laboratory abnormalities:\n  a. AST > 5 x ULN\n  b. Creatinine > 2 mg/dL",
        "Pregnancy",
    ]


def test_wrapped_lines_join_their_item():
    text = (
        "Inclusion Criteria:\n\n"
        "- Diagnosed chronic decompensated hepatitis B cirrhosis with a course of more than 5\n"
        "years\n\n"
        "- After strict medical conservative treatment for more than 6 months, there was no\n"
        "relief of symptoms\n\n"
        "Exclusion Criteria:\n\n"
        "- Be less than 20 years old or more than 60 years old"
    )
    result = split_eligibility(text)
    assert result.inclusion == [
        "Diagnosed chronic decompensated hepatitis B cirrhosis with a course of more than 5 years",
        "After strict medical conservative treatment for more than 6 months, there was no "
        "relief of symptoms",
    ]
    assert result.exclusion == ["Be less than 20 years old or more than 60 years old"]


def test_heading_variants_and_preamble():
    text = (
        "Participants must meet all criteria below.\n\n"
        "KEY INCLUSION CRITERIA\n"
        "* Age >= 18\n"
        "Key Exclusion Criteria for Part B:\n"
        "* Prior allogeneic transplant\n"
        "Exclusion criteria: Known HIV infection\n"
    )
    result = split_eligibility(text)
    assert result.other == ["Participants must meet all criteria below."]
    assert result.inclusion == ["Age >= 18"]
    assert result.exclusion == ["Prior allogeneic transplant", "Known HIV infection"]


def test_sections_without_bullets_are_one_item_per_line():
    text = "INCLUSION CRITERIA:\nAge over 18\nSigned consent\n\nEXCLUSION CRITERIA:\nPregnancy\n"
    result = split_eligibility(text)
    assert result.inclusion == ["Age over 18", "Signed consent"]
    assert result.exclusion == ["Pregnancy"]


def test_lead_in_lines_and_pdq_headings_go_to_other():
    text = (
        "DISEASE CHARACTERISTICS:\n\n"
        "* Histologically confirmed lymphoma\n\n"
        "Inclusion Criteria:\n\n"
        "Patients must meet all of the following:\n\n"
        "* Age 18 or older\n"
        "* Measurable disease\n\n"
        "Exclusion Criteria:\n\n"
        "* Pregnant"
    )
    result = split_eligibility(text)
    assert result.other == [
        "DISEASE CHARACTERISTICS:",
        "Histologically confirmed lymphoma",
        "Patients must meet all of the following:",
    ]
    assert result.inclusion == ["Age 18 or older", "Measurable disease"]
    assert result.exclusion == ["Pregnant"]


def test_criterion_mentioning_inclusion_criteria_is_not_a_heading():
    text = (
        "Inclusion Criteria:\n\n"
        "* Meets all inclusion criteria of the parent study: NCT01234567\n"
        "* Exclusion criteria of the parent study not met\n"
    )
    result = split_eligibility(text)
    assert len(result.inclusion) == 2 and result.exclusion == []


def test_numbers_in_text_are_not_bullets_and_crlf_is_handled():
    text = "Inclusion Criteria:\r\n\r\n* Weight\r\n1.5 kg or more at birth\r\n* Consent"
    result = split_eligibility(text)
    assert result.inclusion == ["Weight 1.5 kg or more at birth", "Consent"]


def test_empty_and_none():
    assert split_eligibility(None) == EligibilityText([], [], [])
    assert split_eligibility("  \n ") == EligibilityText([], [], [])


_WORDS = st.sampled_from(
    ["age", "ANC", "≥", "1.5", "×", "10^9/L", "within", "28", "days", "(ULN)", "prior", "CAR-T",
     "creatinine", "<", "60", "mL/min", "pregnant", "or", "consent;", "HbA1c", "7.5%", "e.g."]
)  # fmt: skip
_ITEM = (
    st.lists(_WORDS, min_size=1, max_size=12).map(" ".join).filter(lambda s: not s.endswith(":"))
)


@settings(max_examples=60, deadline=None)
@given(
    inclusion=st.lists(_ITEM, min_size=1, max_size=8),
    exclusion=st.lists(_ITEM, min_size=1, max_size=8),
    style=st.sampled_from(["* ", "- ", "1. ", "1) "]),
    blank_between=st.booleans(),
)
def test_rendered_lists_split_back_into_the_same_items(inclusion, exclusion, style, blank_between):
    def render(items):
        sep = "\n\n" if blank_between else "\n"
        if style[0] == "1":
            return sep.join(f"{i}{style[1:]}{t}" for i, t in enumerate(items, 1))
        return sep.join(style + t for t in items)

    text = (
        f"Inclusion Criteria:\n\n{render(inclusion)}\n\nExclusion Criteria:\n\n{render(exclusion)}"
    )
    result = split_eligibility(text)
    assert result == EligibilityText(inclusion, exclusion, [])
