"""A realistic API v2 study used across the interop tests (shape per ctg-oas-v2.yaml 2.0.0)."""

import copy

SAMPLE = {
    "protocolSection": {
        "identificationModule": {
            "nctId": "NCT01234567",
            "orgStudyIdInfo": {"id": "X-01"},
            "secondaryIdInfos": [{"id": "2023-123", "type": "REGISTRY", "domain": "ChiCTR"}],
            "organization": {"fullName": "Some Hospital", "class": "OTHER"},
            "briefTitle": "A trial",
            "officialTitle": "A Phase 1 trial of X",
            "acronym": "XT",
        },
        "statusModule": {
            "statusVerifiedDate": "2024-05",
            "overallStatus": "RECRUITING",
            "expandedAccessInfo": {"hasExpandedAccess": False},
            "startDateStruct": {"date": "2024-03", "type": "ACTUAL"},
            "primaryCompletionDateStruct": {"date": "2026-12-31", "type": "ESTIMATED"},
            "completionDateStruct": {"date": "2027", "type": "ESTIMATED"},
            "studyFirstSubmitDate": "2024-01-15",
            "studyFirstPostDateStruct": {"date": "2024-01-22", "type": "ACTUAL"},
            "lastUpdatePostDateStruct": {"date": "2024-06-01", "type": "ACTUAL"},
        },
        "sponsorCollaboratorsModule": {
            "responsibleParty": {"type": "SPONSOR"},
            "leadSponsor": {"name": "Acme Bio", "class": "INDUSTRY"},
            "collaborators": [{"name": "Uni", "class": "OTHER"}],
        },
        "descriptionModule": {"briefSummary": "Summary", "detailedDescription": "Details"},
        "conditionsModule": {"conditions": ["Decompensated Cirrhosis"], "keywords": ["MSC"]},
        "designModule": {
            "studyType": "INTERVENTIONAL",
            "phases": ["PHASE1", "PHASE2"],
            "designInfo": {
                "allocation": "NA",
                "interventionModel": "SINGLE_GROUP",
                "primaryPurpose": "TREATMENT",
                "maskingInfo": {"masking": "NONE"},
            },
            "enrollmentInfo": {"count": 12, "type": "ESTIMATED"},
        },
        "armsInterventionsModule": {
            "armGroups": [
                {
                    "label": "Arm A",
                    "type": "EXPERIMENTAL",
                    "description": "d",
                    "interventionNames": ["Biological: X"],
                }
            ],
            "interventions": [
                {"type": "BIOLOGICAL", "name": "X", "description": "x", "armGroupLabels": ["Arm A"]}
            ],
        },
        "outcomesModule": {
            "primaryOutcomes": [
                {"measure": "AEs", "description": "AEs by CTCAE", "timeFrame": "28 days"}
            ],
            "secondaryOutcomes": [{"measure": "MELD", "timeFrame": "6 months"}],
        },
        "eligibilityModule": {
            "eligibilityCriteria": "Inclusion Criteria:\n\n* a\n\nExclusion Criteria:\n\n* b",
            "healthyVolunteers": False,
            "sex": "ALL",
            "minimumAge": "18 Years",
            "maximumAge": "75 Years",
            "stdAges": ["ADULT", "OLDER_ADULT"],
        },
        "contactsLocationsModule": {
            "centralContacts": [
                {"name": "Dr A", "role": "CONTACT", "phone": "123", "email": "a@b.c"}
            ],
            "overallOfficials": [
                {"name": "Dr B", "affiliation": "Uni", "role": "PRINCIPAL_INVESTIGATOR"}
            ],
            "locations": [
                {
                    "facility": "Hosp",
                    "status": "RECRUITING",
                    "city": "Beijing",
                    "country": "China",
                    "geoPoint": {"lat": 39.9075, "lon": 116.39723},
                }
            ],
        },
    },
    "derivedSection": {"miscInfoModule": {"versionHolder": "2024-06-01"}},
    "hasResults": False,
}


def sample(**changes):
    """A deep copy of SAMPLE with dotted-path changes: sample(**{"a.b": 1})."""
    data = copy.deepcopy(SAMPLE)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return data


DELETE = object()
