"""Record writes with Salesforce's rules: field access, required fields, references, unique
and external ids, derived fields (Name, IsClosed/IsWon) and soft deletion."""
# ruff: noqa: S608 -- SQL text is built from schema identifiers only; values are always bound.

from __future__ import annotations

from . import ids
from .errors import ApiError
from .schema import STAGES, SObject, get_object
from .values import to_storage


class MultipleMatches(Exception):  # noqa: N818
    def __init__(self, ids_: list[str]):
        super().__init__(ids_)
        self.ids = ids_


class OrgRecords:
    """Mixed into Org: the write path every endpoint shares (callers hold a transaction)."""

    # -- writes -------------------------------------------------------------------------------
    def _resolve_fields(self, obj: SObject, data: dict, creating: bool) -> dict:
        out = {}
        bad_perm = []
        for key, value in data.items():
            if key == "attributes":
                continue
            f = obj.field(key)
            if f is None:
                rel = obj.relationships.get(key.lower())
                if rel is not None and isinstance(value, dict):
                    out[rel.name] = self._resolve_relationship(rel, value)
                    continue
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{key}' on sobject of type {obj.name}",
                    [key],
                )
            if f.name == "Id":
                if creating:
                    raise ApiError(
                        400,
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        "Unable to create/update fields: Id. Please check the security settings "
                        "of this field and verify that it is read/write for your profile or "
                        "permission set.",
                        ["Id"],
                    )
                continue
            if not (f.createable if creating else f.updateable):
                bad_perm.append(f.name)
                continue
            out[f.name] = to_storage(f, value)
        if bad_perm:
            raise ApiError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(bad_perm)}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or "
                "permission set.",
                bad_perm,
            )
        return out

    def _resolve_relationship(self, rel, value: dict) -> str:
        target = get_object(rel.reference_to[0])
        keys = [k for k in value if k != "attributes"]
        if len(keys) != 1:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"Relationship {rel.relationship_name} must name exactly one external id field",
            )
        matches = self.find_by_external(target, keys[0], str(value[keys[0]]))
        if not matches:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"Foreign key external ID: {value[keys[0]]} not found for field {keys[0]} in "
                f"entity {target.name}",
                [rel.name],
            )
        if len(matches) > 1:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"Foreign key external ID: {value[keys[0]]} matched more than one record",
                [rel.name],
            )
        return matches[0]

    def _check_references(self, obj: SObject, values: dict) -> None:
        for name, value in values.items():
            f = obj.fields[name]
            if f.type != "reference" or value is None:
                continue
            targets = [get_object(t) for t in f.reference_to]
            target = next((t for t in targets if t.prefix == value[:3]), None)
            if target is None or self._row(target, value) is None:
                raise ApiError(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY" if target else "FIELD_INTEGRITY_EXCEPTION",
                    f"{f.label or f.name}: id value of incorrect type: {value}"
                    if target is None
                    else "invalid cross reference id",
                    [name],
                )

    def _check_unique(self, obj: SObject, values: dict, own_id: str | None) -> None:
        for name, value in values.items():
            f = obj.fields[name]
            if not f.unique or value is None:
                continue
            row = self.conn.execute(
                f'SELECT Id FROM "{obj.name}" WHERE "{name}" = ? AND IsDeleted = 0 '
                + ("AND Id != ? " if own_id else "")
                + "LIMIT 1",
                (value, own_id) if own_id else (value,),
            ).fetchone()
            if row:
                raise ApiError(
                    400,
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {name} duplicates value on record with id: {row[0]}",
                    [name],
                )

    def _derive(self, obj: SObject, row: dict) -> None:
        if obj.name in ("Contact", "Lead"):
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)
        if obj.name == "Opportunity" and row.get("StageName"):
            closed = {s[0].lower(): (s[1], s[2]) for s in STAGES}.get(
                row["StageName"].lower(), (False, False)
            )
            row["IsClosed"], row["IsWon"] = int(closed[0]), int(closed[1])

    def _defaults(self, obj: SObject) -> dict:
        out = {}
        for f in obj.fields.values():
            if f.type == "boolean":
                out[f.name] = 1 if f.name == "IsActive" else 0
            elif f.default_value is not None:
                out[f.name] = f.default_value
        if "OwnerId" in obj.fields and self._user_id:
            out["OwnerId"] = self._user_id
        if obj.name == "Lead":
            row = self.conn.execute(
                'SELECT MasterLabel FROM "LeadStatus" WHERE IsDefault = 1 AND IsDeleted = 0 '
                "ORDER BY SortOrder LIMIT 1"
            ).fetchone()
            if row:
                out["Status"] = row[0]
        if obj.name == "LeadStatus":
            out["ApiName"] = None
        return out

    def _next_pk(self, obj: SObject) -> int:
        row = self.conn.execute(f'SELECT COALESCE(MAX(pk), 0) + 1 FROM "{obj.name}"').fetchone()
        return row[0]

    def _insert(self, obj: SObject, data: dict, *, validate: bool = True) -> str:
        values = self._resolve_fields(obj, data, creating=True)
        row = self._defaults(obj)
        row.update({k: v for k, v in values.items() if v is not None or k not in row})
        if obj.name == "LeadStatus" and not row.get("ApiName"):
            row["ApiName"] = row.get("MasterLabel")
        if validate:
            missing = [n for n in obj.required if row.get(n) is None]
            if missing:
                raise ApiError(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
            self._check_references(obj, values)
            self._check_unique(obj, values, None)
        self._derive(obj, row)
        now = self.now()
        pk = self._next_pk(obj)
        rid = ids.make_id(obj.prefix, pk)
        row.update(
            pk=pk, Id=rid, IsDeleted=0, CreatedDate=now, LastModifiedDate=now, SystemModstamp=now
        )
        cols = ", ".join(f'"{k}"' for k in row)
        marks = ", ".join("?" for _ in row)
        self.conn.execute(f'INSERT INTO "{obj.name}" ({cols}) VALUES ({marks})', list(row.values()))
        return rid

    def _update(self, obj: SObject, rid: str, data: dict) -> None:
        current = self._row(obj, rid)
        if current is None:
            raise ApiError(
                404,
                "ENTITY_IS_DELETED" if self._row(obj, rid, True) else "NOT_FOUND",
                "entity is deleted"
                if self._row(obj, rid, True)
                else "The requested resource does not exist",
            )
        if obj.name == "Lead" and current["IsConverted"]:
            raise ApiError(
                400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", []
            )
        values = self._resolve_fields(obj, data, creating=False)
        cleared = [n for n in obj.required if n in values and values[n] is None]
        if cleared:
            raise ApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(cleared)}]",
                cleared,
            )
        self._check_references(obj, values)
        self._check_unique(obj, values, rid)
        new = {**current, **values}
        self._derive(obj, new)
        changed = {k: new[k] for k in new if k != "pk" and new[k] != current.get(k)}
        now = self.now()
        changed.update(LastModifiedDate=now, SystemModstamp=now)
        sets = ", ".join(f'"{k}" = ?' for k in changed)
        self.conn.execute(f'UPDATE "{obj.name}" SET {sets} WHERE Id = ?', [*changed.values(), rid])

    def _delete(self, obj: SObject, rid: str) -> None:
        current = self._row(obj, rid, include_deleted=True)
        if current is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if current["IsDeleted"]:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        now = self.now()
        self.conn.execute(
            f'UPDATE "{obj.name}" SET IsDeleted = 1, SystemModstamp = ?, "_DeletedDate" = ? '
            "WHERE Id = ?",
            (now, now, rid),
        )

    def _upsert(self, obj: SObject, field_name: str, value: str, data: dict) -> tuple[str, bool]:
        matches = self.find_by_external(obj, field_name, value)
        if len(matches) > 1:
            raise MultipleMatches(matches)
        f = obj.field(field_name)
        body = {k: v for k, v in data.items() if k.lower() != f.name.lower()}
        if matches:
            self._update(obj, matches[0], body)
            return matches[0], False
        if f.name == "Id":
            return self._insert(obj, body), True
        return self._insert(obj, {**body, f.name: value}), True
