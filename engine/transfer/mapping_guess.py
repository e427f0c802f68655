"""The best guess at a mapping from a file's header alone, used without a mapping file.

Columns are matched to contact fields by name and common synonyms (any case, spaces
and punctuation); ``custom.X`` columns and every other column become custom fields.
A file written by ``funnel export`` is recognised: its ids match the contacts it came
from and the columns the rules derive are skipped.
"""

from __future__ import annotations

from typing import Iterable

from funnel.engine.model import FIELDS
from funnel.engine.transfer.csvread import header_key
from funnel.engine.transfer.mapping import (CUSTOM_PREFIX, DERIVED_COLUMNS, ColumnMap, Mapping,
                                            Target)

_SYNONYMS: dict[str, tuple[str, ...]] = {
    # Not a bare "contact": in many exports it is how a person was reached (cellular,
    # telephone), and a guess would have named everyone "cellular".
    "name": ("name", "fullname", "contactname", "contactperson", "person", "leadname",
             "firstname", "givenname", "forename", "lastname", "surname", "familyname"),
    "email": ("email", "emailaddress", "mail", "workemail", "businessemail", "emailaddr"),
    "phone": ("phone", "phonenumber", "telephone", "tel", "mobile", "mobilephone", "cell",
              "cellphone", "workphone", "mobilenumber"),
    "company": ("company", "companyname", "organisation", "organization", "org", "account",
                "accountname", "employer"),
    "title": ("title", "jobtitle", "position", "role", "jobrole", "designation"),
    "country": ("country", "countryregion"),
    "industry": ("industry", "sector", "vertical"),
    "company_size": ("companysize", "employees", "numberofemployees", "headcount"),
    "source": ("source", "leadsource", "channel", "acquisitionchannel"),
    "created_at": ("createdat", "created", "createdon", "createddate", "datecreated",
                   "creationdate", "signupdate", "dateadded", "submittedat"),
    "referred_by": ("referredby", "referrer"),
    "external_id": ("externalid", "externalreference", "leadid", "contactid", "recordid",
                    "crmid", "customerid", "prospectid"),
    "budget_amount": ("budgetamount", "budgetvalue"),
    "owner": ("owner", "leadowner", "contactowner", "assignedto", "salesrep", "accountowner"),
    "tags": ("tags", "tag", "labels", "label"),
    "notes": ("notes", "note", "comments", "comment", "remarks"),
    "follow_up": ("followup", "followupdate", "nextfollowup", "nextcontactdate"),
    "outcome_reason": ("outcomereason", "lostreason"),
}
_GUESS: dict[str, str] = {header_key(name): name for name in FIELDS}
for _field_name, _words in _SYNONYMS.items():
    for _word in _words:
        _GUESS.setdefault(_word, _field_name)
_SPECIAL_GUESS = {"activities": "activities", "stage": "stage", "lifecyclestage": "stage",
                  "stagesince": "stage_since"}


def is_export(header: Iterable[str]) -> bool:
    """A file written by ``funnel export`` (its derived columns are then skipped)."""
    names = set(header)
    return {"stage_since", "activities"} <= names


def guess_mapping(header: Iterable[str], name: str = "best guess") -> Mapping:
    """A mapping from the header names alone: fields by name and common synonyms
    (any case, spaces and punctuation), ``custom.X`` columns and every other column as
    custom fields. An ``id`` column is the external id unless the file has one."""
    header = [column for column in header]
    export = is_export(header)
    keys = [header_key(column) for column in header]
    has_external = any(_GUESS.get(key) == "external_id" for key in keys)
    columns = []
    claimed: set[str] = set()
    fields_taken: set[str] = set()  # a second column for one field stays a custom field
    for column, key in zip(header, keys):
        if not column.strip() or key in claimed:
            continue  # unnamed or repeated columns are kept as custom fields by the importer
        claimed.add(key)
        if export and column == "id":
            columns.append(ColumnMap(column, (Target("funnel_id"),),
                                     note="read back into its own database"))
        elif export and column == "after_contact":
            columns.append(ColumnMap(column, (Target("after_contact"),),
                                     note="what was recorded after contact"))
        elif export and column in DERIVED_COLUMNS:
            columns.append(ColumnMap(column, (Target("ignore"),),
                                     note="derived by the rules: not imported"))
        elif column.lower().startswith(CUSTOM_PREFIX) and len(column) > len(CUSTOM_PREFIX):
            columns.append(ColumnMap(column, (Target("custom", column[len(CUSTOM_PREFIX):]),)))
        elif key in _SPECIAL_GUESS:
            columns.append(ColumnMap(column, (Target(_SPECIAL_GUESS[key]),)))
        elif key in _GUESS and (_GUESS[key] not in fields_taken
                                or _GUESS[key] in ("name", "tags", "notes")):
            fields_taken.add(_GUESS[key])
            soft = FIELDS[_GUESS[key]].kind == "enum"
            columns.append(ColumnMap(column, (Target("field", _GUESS[key], soft=soft),),
                                     note="" if key == header_key(_GUESS[key])
                                     else "by a common name"))
        elif key == "id" and not has_external and "external_id" not in fields_taken:
            fields_taken.add("external_id")
            columns.append(ColumnMap(column, (Target("field", "external_id"),),
                                     note="the other system's id"))
        else:
            columns.append(ColumnMap(column, (Target("custom", column.strip()),)))
    # An export says what it means: "N/A" in it is text, not a placeholder.
    empty = frozenset() if export else Mapping.empty_values
    return Mapping(name=name, source="a best guess from the header", columns=tuple(columns),
                   empty_values=empty, guessed=True)
