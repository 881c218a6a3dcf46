"""The objects and fields of the emulated org, and what describe says about them."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ApiError

EXTERNAL_ID = "Crmbridge_Id__c"

DEPARTMENTS = [
    "Engineering",
    "IT",
    "Marketing",
    "Sales",
    "Finance",
    "Operations",
    "Customer Service",
    "Human Resources",
    "Legal",
]
SENIORITIES = ["Executive", "Vice President", "Director", "Manager", "Individual Contributor"]
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
LEAD_STATUSES = [
    # (label, is_converted, is_default, sort_order)
    ("Open - Not Contacted", False, True, 1),
    ("Working - Contacted", False, False, 2),
    ("Closed - Converted", True, False, 3),
    ("Closed - Not Converted", False, False, 4),
]
STAGES = [
    # (label, is_closed, is_won)
    ("Prospecting", False, False),
    ("Qualification", False, False),
    ("Needs Analysis", False, False),
    ("Proposal/Price Quote", False, False),
    ("Negotiation/Review", False, False),
    ("Closed Won", True, True),
    ("Closed Lost", True, False),
]
CONTACT_ROLES = ["Decision Maker", "Economic Buyer", "Technical Buyer", "Influencer", "Other"]
TASK_STATUSES = ["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"]

# SQLite column affinity per Salesforce field type.
SQL_TYPES = {
    "id": "TEXT",
    "string": "TEXT COLLATE NOCASE",
    "email": "TEXT COLLATE NOCASE",
    "url": "TEXT COLLATE NOCASE",
    "phone": "TEXT COLLATE NOCASE",
    "picklist": "TEXT COLLATE NOCASE",
    "textarea": "TEXT COLLATE NOCASE",
    "reference": "TEXT",
    "boolean": "INTEGER",
    "date": "TEXT",
    "datetime": "TEXT",
    "int": "INTEGER",
    "double": "REAL",
}


@dataclass
class Field:
    name: str
    type: str = "string"
    label: str = ""
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted: bool = False
    external_id: bool = False
    unique: bool = False
    length: int = 255
    picklist: list[str] = field(default_factory=list)
    default_value: str | None = None
    reference_to: list[str] = field(default_factory=list)
    relationship_name: str | None = None
    custom: bool = False
    child_relationship: str | None = None  # the parent's name for its children, e.g. Contacts

    def describe(self) -> dict:
        picklist = [
            {
                "active": True,
                "defaultValue": v == self.default_value,
                "label": v,
                "validFor": None,
                "value": v,
            }
            for v in self.picklist
        ]
        return {
            "name": self.name,
            "label": self.label or _label(self.name),
            "type": self.type,
            "length": self.length if self.type in _TEXTY else 0,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.defaulted,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.name == "Id" or self.external_id or self.type == "email",
            "custom": self.custom,
            "calculated": False,
            "filterable": True,
            "sortable": self.type != "textarea",
            "groupable": self.type not in ("textarea", "datetime", "double"),
            "picklistValues": picklist,
            "restrictedPicklist": False,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "polymorphicForeignKey": len(self.reference_to) > 1,
            "defaultValue": self.default_value,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
        }


_TEXTY = {"string", "email", "url", "phone", "picklist", "textarea", "id", "reference"}
_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "int": "xsd:int",
    "double": "xsd:double",
}


def _label(name: str) -> str:
    base = name.removesuffix("__c").replace("_", " ")
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2]
    out = []
    for i, ch in enumerate(base):
        if i and ch.isupper() and base[i - 1].islower():
            out.append(" ")
        out.append(ch)
    return "".join(out).strip()


@dataclass
class SObject:
    name: str
    prefix: str
    label: str
    label_plural: str
    fields: dict[str, Field]
    name_field: str | None = None

    def __post_init__(self):
        self._lower = {k.lower(): v for k, v in self.fields.items()}
        self.relationships = {
            f.relationship_name.lower(): f for f in self.fields.values() if f.relationship_name
        }

    def field(self, name: str) -> Field | None:
        return self._lower.get(name.lower())

    @property
    def required(self) -> list[str]:
        return [
            f.name
            for f in self.fields.values()
            if f.createable and not f.nillable and not f.defaulted and f.type != "boolean"
        ]

    def describe(self, version: str) -> dict:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            **self.summary(version),
            "fields": [f.describe() for f in self.fields.values()],
            "childRelationships": [
                {
                    "cascadeDelete": False,
                    "childSObject": child.name,
                    "deprecatedAndHidden": False,
                    "field": f.name,
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                    "relationshipName": f.child_relationship,
                    "restrictedDelete": False,
                }
                for child, f in children_of(self.name)
            ],
            "recordTypeInfos": [],
            "urls": {
                "sobject": base,
                "describe": base + "/describe",
                "rowTemplate": base + "/{ID}",
            },
        }

    def summary(self, version: str) -> dict:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "name": self.name,
            "label": self.label,
            "labelPlural": self.label_plural,
            "keyPrefix": self.prefix,
            "custom": False,
            "createable": True,
            "updateable": True,
            "deletable": True,
            "queryable": True,
            "retrieveable": True,
            "searchable": True,
            "replicateable": True,
            "layoutable": True,
            "urls": {
                "sobject": base,
                "describe": base + "/describe",
                "rowTemplate": base + "/{ID}",
            },
        }


def _common(owner: bool = True) -> list[Field]:
    ro = {"createable": False, "updateable": False}
    fields = [
        Field("Id", "id", "Record ID", nillable=False, length=18, **ro, defaulted=True),
        Field("IsDeleted", "boolean", "Deleted", nillable=False, defaulted=True, **ro),
        Field("CreatedDate", "datetime", nillable=False, defaulted=True, **ro),
        Field("LastModifiedDate", "datetime", nillable=False, defaulted=True, **ro),
        Field(
            "SystemModstamp", "datetime", "System Modstamp", nillable=False, defaulted=True, **ro
        ),
        Field(
            EXTERNAL_ID,
            "string",
            "Crmbridge ID",
            external_id=True,
            unique=True,
            length=64,
            custom=True,
        ),
    ]
    if owner:
        fields.append(
            Field(
                "OwnerId",
                "reference",
                "Owner ID",
                nillable=False,
                defaulted=True,
                reference_to=["User"],
                relationship_name="Owner",
                length=18,
            )
        )
    return fields


def _ref(name: str, to: list[str], rel: str, child: str | None = None, **kw) -> Field:
    return Field(
        name,
        "reference",
        reference_to=to,
        relationship_name=rel,
        child_relationship=child,
        length=18,
        **kw,
    )


def _obj(name, prefix, label, plural, fields, owner=True, name_field="Name") -> SObject:
    all_fields = _common(owner) + fields
    return SObject(name, prefix, label, plural, {f.name: f for f in all_fields}, name_field)


RO = {"createable": False, "updateable": False}

OBJECTS: dict[str, SObject] = {
    o.name: o
    for o in [
        _obj(
            "Account",
            "001",
            "Account",
            "Accounts",
            [
                Field("Name", nillable=False, label="Account Name"),
                Field("Website", "url"),
                Field("BillingCity", length=40),
                Field("Alternate_Domains__c", "textarea", length=32768, custom=True),
            ],
        ),
        _obj(
            "Contact",
            "003",
            "Contact",
            "Contacts",
            [
                Field("FirstName", length=40),
                Field("LastName", nillable=False, length=80),
                Field("Name", label="Full Name", defaulted=True, length=121, **RO),
                Field("Email", "email", length=80),
                Field("Title", length=128),
                Field("Phone", "phone", length=40),
                Field("MailingCountry", length=80),
                Field("Department", "picklist", picklist=DEPARTMENTS, length=80),
                Field("Seniority__c", "picklist", picklist=SENIORITIES, custom=True),
                _ref("AccountId", ["Account"], "Account", "Contacts"),
                Field("LeadSource", "picklist", picklist=LEAD_SOURCES),
            ],
        ),
        _obj(
            "Lead",
            "00Q",
            "Lead",
            "Leads",
            [
                Field("FirstName", length=40),
                Field("LastName", nillable=False, length=80),
                Field("Name", label="Full Name", defaulted=True, length=121, **RO),
                Field("Email", "email", length=80),
                Field("Company", nillable=False),
                Field("Title", length=128),
                Field("Phone", "phone", length=40),
                Field("Country", length=80),
                Field("Department", "picklist", picklist=DEPARTMENTS, length=80),
                Field("Seniority__c", "picklist", picklist=SENIORITIES, custom=True),
                Field("LeadSource", "picklist", picklist=LEAD_SOURCES),
                Field(
                    "Status",
                    "picklist",
                    nillable=False,
                    defaulted=True,
                    picklist=[s[0] for s in LEAD_STATUSES],
                    default_value=LEAD_STATUSES[0][0],
                ),
                Field("IsConverted", "boolean", "Converted", nillable=False, defaulted=True, **RO),
                _ref("ConvertedContactId", ["Contact"], "ConvertedContact", **RO),
                _ref("ConvertedAccountId", ["Account"], "ConvertedAccount", **RO),
                _ref("ConvertedOpportunityId", ["Opportunity"], "ConvertedOpportunity", **RO),
            ],
        ),
        _obj(
            "Opportunity",
            "006",
            "Opportunity",
            "Opportunities",
            [
                Field("Name", nillable=False, length=120),
                Field(
                    "StageName",
                    "picklist",
                    "Stage",
                    nillable=False,
                    picklist=[s[0] for s in STAGES],
                ),
                Field("CloseDate", "date", nillable=False),
                _ref("AccountId", ["Account"], "Account", "Opportunities"),
                Field("IsClosed", "boolean", "Closed", nillable=False, defaulted=True, **RO),
                Field("IsWon", "boolean", "Won", nillable=False, defaulted=True, **RO),
            ],
        ),
        _obj(
            "OpportunityContactRole",
            "00K",
            "Contact Role",
            "Contact Roles",
            [
                _ref(
                    "ContactId", ["Contact"], "Contact", "OpportunityContactRoles", nillable=False
                ),
                _ref(
                    "OpportunityId",
                    ["Opportunity"],
                    "Opportunity",
                    "OpportunityContactRoles",
                    nillable=False,
                    updateable=False,
                ),
                Field("Role", "picklist", picklist=CONTACT_ROLES),
                Field("IsPrimary", "boolean", "Primary", nillable=False, defaulted=True),
            ],
            owner=False,
            name_field=None,
        ),
        _obj(
            "Task",
            "00T",
            "Task",
            "Tasks",
            [
                _ref("WhoId", ["Contact", "Lead"], "Who", "Tasks"),
                _ref("WhatId", ["Account", "Opportunity"], "What", "Tasks"),
                Field("Subject", length=255),
                Field("ActivityDate", "date", "Due Date Only"),
                Field(
                    "Status",
                    "picklist",
                    nillable=False,
                    defaulted=True,
                    picklist=TASK_STATUSES,
                    default_value="Not Started",
                ),
                Field("Description", "textarea", length=32000),
            ],
            name_field=None,
        ),
        _obj(
            "Event",
            "00U",
            "Event",
            "Events",
            [
                _ref("WhoId", ["Contact", "Lead"], "Who", "Events"),
                _ref("WhatId", ["Account", "Opportunity"], "What", "Events"),
                Field("Subject", length=255),
                Field("ActivityDate", "date", "Due Date Only"),
                Field("StartDateTime", "datetime", "Start"),
                Field("EndDateTime", "datetime", "End"),
                Field("Description", "textarea", length=32000),
            ],
            name_field=None,
        ),
        _obj(
            "User",
            "005",
            "User",
            "Users",
            [
                Field("Name", nillable=False, length=121),
                Field("Username", length=80),
                Field("Email", "email", nillable=False, length=128),
                Field("IsActive", "boolean", "Active", nillable=False, defaulted=True),
            ],
            owner=False,
        ),
        _obj(
            "LeadStatus",
            "01J",
            "Lead Status Value",
            "Lead Status Values",
            [
                Field("MasterLabel", nillable=False),
                Field("ApiName", defaulted=True),
                Field("IsConverted", "boolean", "Converted", nillable=False, defaulted=True),
                Field("IsDefault", "boolean", "Default", nillable=False, defaulted=True),
                Field("SortOrder", "int", "Sort Order"),
            ],
            owner=False,
            name_field="MasterLabel",
        ),
    ]
}

_BY_LOWER = {k.lower(): v for k, v in OBJECTS.items()}
_BY_PREFIX = {o.prefix: o for o in OBJECTS.values()}


def get_object(name: str) -> SObject | None:
    return _BY_LOWER.get(name.lower())


def object_for_id(record_id: str) -> SObject | None:
    return _BY_PREFIX.get(record_id[:3])


def sobject_or_404(name: str) -> SObject:
    obj = get_object(name)
    if obj is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return obj


def attributes(sobject: str, record_id: str, version: str) -> dict:
    return {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}


_CHILDREN: dict[str, list[tuple[SObject, Field]]] = {}
for _child in OBJECTS.values():
    for _f in _child.fields.values():
        for _target in _f.reference_to:
            _CHILDREN.setdefault(_target, []).append((_child, _f))


def children_of(name: str) -> list[tuple[SObject, Field]]:
    """(child object, its reference field) for every lookup that points at ``name``."""
    return _CHILDREN.get(name, [])


def child_relationship(parent: SObject, name: str) -> tuple[SObject, Field] | None:
    """The child object and lookup field behind a relationship name, e.g. Account.Contacts."""
    for child, f in children_of(parent.name):
        if f.child_relationship and f.child_relationship.lower() == name.lower():
            return child, f
    return None
