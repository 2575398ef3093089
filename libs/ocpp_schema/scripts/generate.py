#!/usr/bin/env python3
"""Generate the pydantic v2 models of ``ocpp_schema.v201.models`` and ``ocpp_schema.v16.models``.

Usage (from the workspace root)::

    python libs/ocpp_schema/scripts/generate.py            # rewrite both versions' models
    python libs/ocpp_schema/scripts/generate.py --check    # exit 1 if any checked-in ones are stale
    python libs/ocpp_schema/scripts/generate.py --version v16 --out DIR  # one version elsewhere

OCPP 1.6 schemas (copied from the ``ocpp`` package, renamed ``<Action>Request.json`` /
``<Action>Response.json`` like the 2.0.1 ones) declare nested objects and enums inline; they
are first hoisted into ``definitions`` (objects named after their property, ``meterValue``
-> ``MeterValue``; enums ``<Property>Enum``; a clash with a different type of the same name
is prefixed with its parent's name), then rendered like the 2.0.1 ones.

One module per action (``boot_notification.py`` holds ``BootNotificationRequest``,
``BootNotificationResponse`` and every definition both schemas use), plus an
``__init__.py`` re-exporting the Request/Response classes and the ``REQUEST_MODELS`` /
``RESPONSE_MODELS`` tables. Standard library only, so it runs in any Python >= 3.11
without the project installed; the output depends only on the schema files (no
timestamps, no formatter), so it is byte-for-byte stable.

The schemas use a small subset of draft-06 (type, $ref to local definitions,
properties, required, additionalProperties, enum, maxLength, minimum, maximum,
format date-time, items, minItems, maxItems, default); anything else makes the
generator stop rather than silently produce a looser model.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
from pathlib import Path
from typing import Any

LIB_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA_DIR = LIB_DIR / "src" / "ocpp_schema" / "schemas" / "v201"
DEFAULT_OUT_DIR = LIB_DIR / "src" / "ocpp_schema" / "v201" / "models"
VERSIONS: dict[str, tuple[str, Path, Path]] = {
    # version: (protocol label, schema directory, output directory)
    "v201": ("2.0.1", DEFAULT_SCHEMA_DIR, DEFAULT_OUT_DIR),
    "v16": (
        "1.6",
        LIB_DIR / "src" / "ocpp_schema" / "schemas" / "v16",
        LIB_DIR / "src" / "ocpp_schema" / "v16" / "models",
    ),
}
GENERATOR = "libs/ocpp_schema/scripts/generate.py"
LINE_LENGTH = 100

ROOT_KEYS = {
    "$schema",
    "comment",
    "definitions",
    "type",
    "additionalProperties",
    "properties",
    "required",
    "description",
    "title",  # OCPP 1.6
    "$id",  # OCPP 1.6 security extension
}
DEF_KEYS = {
    "description", "javaType", "type", "additionalProperties", "properties", "required", "enum", "default",
}  # fmt: skip
PROP_KEYS = {
    "description", "type", "$ref", "maxLength", "format", "default", "items",
    "minItems", "maxItems", "additionalItems", "minimum", "maximum", "multipleOf",
}  # fmt: skip
ITEM_KEYS = {"type", "$ref", "maxLength"}

# Enums whose unknown values are accepted and kept as plain strings (the field is typed
# ``XEnumType | str``). Stations send vendor measurands in meter values; refusing the whole
# TransactionEvent for one of them would make the station retry it forever and lose the
# transaction's data. Keep in step with ocpp_schema.validation.OPEN_ENUMS (a test checks).
OPEN_ENUMS = {"MeasurandEnumType"}
# An unknown value of an open enum is at most this long (the services store it in String(64)).
OPEN_MAX_LENGTH = 64

# OCPP 1.6 declares its enums inline, so they are opened by field: (the property holding the
# object, the field) -> the maxLength an unknown string gets (None: unbounded). A 1.6 sampled
# value's measurand and unit (MeterValues.req, StopTransaction.req): the field is typed
# ``XEnum | str``. Keep in step with ocpp_schema.validation.OPEN_FIELDS_16 (a test checks).
OPEN_FIELDS_16: dict[tuple[str, str], int | None] = {
    ("sampledValue", "measurand"): OPEN_MAX_LENGTH,
    ("sampledValue", "unit"): 20,
}

# OCPP 2.0.1 Part 2 defines ``integer`` as 32-bit signed; the schemas leave most unbounded.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# Names a field may not take: they would shadow BaseModel members or names that later
# annotations in the same class body need.
RESERVED_FIELD_NAMES = {
    "model_config", "model_fields", "model_computed_fields", "model_extra", "model_fields_set",
    "model_construct", "model_copy", "model_dump", "model_dump_json", "model_json_schema",
    "model_parametrized_name", "model_post_init", "model_rebuild", "model_validate",
    "model_validate_json", "model_validate_strings", "dict", "json", "copy", "parse_obj",
    "parse_raw", "parse_file", "from_orm", "construct", "schema", "schema_json", "validate",
    "update_forward_refs", "fields", "str", "int", "float", "bool", "list", "datetime", "Any",
    "Annotated", "Field", "BaseModel", "ConfigDict", "StrEnum",
}  # fmt: skip


class SchemaError(Exception):
    pass


def snake_case(name: str) -> str:
    """``chargingStation`` -> ``charging_station``, ``Get15118EVCertificate`` -> ``get15118_ev_certificate``."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def py_str(text: str) -> str:
    """A Python string literal, double-quoted where possible."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def clean_description(text: str | None) -> str:
    if not text:
        return ""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip()


def docstring(text: str, indent: str) -> list[str]:
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    lines = text.split("\n")
    if len(lines) == 1:
        return [f'{indent}"""{text}"""']
    out = [f'{indent}"""{lines[0]}']
    out += [f"{indent}{line}" if line else "" for line in lines[1:]]
    out.append(f'{indent}"""')
    return out


def enum_member_name(value: str) -> str:
    name = re.sub(r"\W", "_", value)
    if not name or name[0].isdigit():
        name = "_" + name
    if (
        keyword.iskeyword(name)
        or name in dir(str)
        or name.startswith("__")
        or name in ("name", "value")
    ):
        name += "_"
    return name


def ref_name(ref: str) -> str:
    prefix = "#/definitions/"
    if not ref.startswith(prefix):
        raise SchemaError(f"unsupported $ref {ref!r}")
    return ref[len(prefix) :]


def _without_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_without_descriptions(v) for v in node]
    return node


def load_schema(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8-sig"))


def check_keys(node: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(node) - allowed
    if unknown:
        raise SchemaError(f"{where}: unsupported schema keywords {sorted(unknown)}")


class ModuleWriter:
    """Renders one action module from its Request and Response schemas."""

    def __init__(
        self,
        action: str,
        schemas: list[tuple[str, str, dict[str, Any]]],
        label: str = "2.0.1",
        open_fields: dict[tuple[str, str], int | None] | None = None,
    ) -> None:
        self.action = action
        self.open_fields = open_fields or {}  # (class name, field) -> maxLength of a str
        self.label = label
        self.schemas = schemas  # [(class name, file name, schema)]
        self.imports: set[str] = set()
        self.defs: dict[str, dict[str, Any]] = {}
        for _, file_name, schema in schemas:
            check_keys(schema, ROOT_KEYS, file_name)
            if schema.get("type") != "object":
                raise SchemaError(f"{file_name}: root is not an object")
            for name, definition in schema.get("definitions", {}).items():
                if name in self.defs:
                    # Request and Response may both define a type; they must agree
                    # (descriptions may differ: the first one wins).
                    if _without_descriptions(self.defs[name]) != _without_descriptions(definition):
                        raise SchemaError(f"{action}: definition {name} differs between schemas")
                    continue
                if name in {c for c, _, _ in schemas}:
                    raise SchemaError(f"{action}: definition {name} clashes with a root class")
                check_keys(definition, DEF_KEYS, f"{file_name}#{name}")
                self.defs[name] = definition

    # -- ordering -------------------------------------------------------------------

    def _refs(self, node: dict[str, Any]) -> list[str]:
        refs = []
        for prop in node.get("properties", {}).values():
            if "$ref" in prop:
                refs.append(ref_name(prop["$ref"]))
            elif "$ref" in prop.get("items", {}):
                refs.append(ref_name(prop["items"]["$ref"]))
        return refs

    def ordered_definitions(self) -> list[str]:
        order: list[str] = []
        state: dict[str, str] = {}

        def visit(name: str) -> None:
            if name not in self.defs:
                raise SchemaError(f"{self.action}: unknown definition {name}")
            if state.get(name) == "done":
                return
            if state.get(name) == "visiting":
                raise SchemaError(f"{self.action}: recursive definition {name} is not supported")
            state[name] = "visiting"
            for dep in self._refs(self.defs[name]):
                visit(dep)
            state[name] = "done"
            order.append(name)

        for _, _, schema in self.schemas:
            for dep in self._refs(schema):
                visit(dep)
        for name in self.defs:  # unreferenced definitions, in file order
            visit(name)
        return order

    # -- rendering ------------------------------------------------------------------

    def render_enum(self, name: str, definition: dict[str, Any]) -> list[str]:
        if definition.get("type") != "string":
            raise SchemaError(f"{self.action}#{name}: only string enums are supported")
        self.imports.add("StrEnum")
        lines = [f"class {name}(StrEnum):"]
        doc = clean_description(definition.get("description"))
        if doc:
            lines += docstring(doc, "    ")
            lines.append("")
        seen: set[str] = set()
        for value in definition["enum"]:
            member = enum_member_name(value)
            if member in seen:
                raise SchemaError(f"{self.action}#{name}: duplicate enum member {member}")
            seen.add(member)
            lines.append(f"    {member} = {py_str(value)}")
        if "default" in definition:
            lines.append(f"    # Schema default: {json.dumps(definition['default'])}")
        return lines

    def item_type(self, items: dict[str, Any], where: str) -> str:
        check_keys(items, ITEM_KEYS, where + "[]")
        if "$ref" in items:
            return ref_name(items["$ref"])
        base = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}.get(
            items.get("type", "")
        )
        if base is None:
            raise SchemaError(f"{where}: unsupported array items {items}")
        if "maxLength" in items:
            self.imports.update(("Annotated",))
            return f"Annotated[{base}, Field(max_length={items['maxLength']})]"
        if base == "int":
            self.imports.update(("Annotated",))
            return f"Annotated[int, Field(ge={INT32_MIN}, le={INT32_MAX})]"
        return base

    def field_type(
        self, prop: dict[str, Any], where: str, open_field: tuple[int | None] | None = None
    ) -> tuple[str, list[str]]:
        """Annotation (without ``| None``) and Field() constraint arguments. ``open_field``
        (``(maxLength,)``) opens the field's enum: any string is accepted too."""
        check_keys(prop, PROP_KEYS, where)
        constraints: list[str] = []
        if "$ref" in prop:
            if set(prop) - {"$ref", "description"}:
                raise SchemaError(f"{where}: $ref with siblings is not supported")
            name = ref_name(prop["$ref"])
            if open_field is not None:
                if "enum" not in self.defs.get(name, {}):
                    raise SchemaError(f"{where}: an open field must be an enum")
                (max_length,) = open_field
                text = "str"
                if max_length is not None:
                    self.imports.add("Annotated")
                    text = f"Annotated[str, Field(max_length={max_length})]"
                return f"{name} | {text}", ['union_mode="left_to_right"']
            if name in OPEN_ENUMS:  # a known value still becomes the enum member
                self.imports.add("Annotated")
                text = f"Annotated[str, Field(max_length={OPEN_MAX_LENGTH})]"
                return f"{name} | {text}", ['union_mode="left_to_right"']
            return name, constraints
        kind = prop.get("type")
        if kind is None:
            self.imports.add("Any")
            return "Any", constraints
        if kind == "string":
            fmt = prop.get("format")
            if fmt is None:
                annotation = "str"
            elif fmt == "date-time":
                self.imports.add("datetime")
                annotation = "datetime"
            elif fmt == "uri":  # OCPP 1.6: kept as the string sent (the validator checks it)
                annotation = "str"
            else:
                raise SchemaError(f"{where}: unsupported format {fmt!r}")
            if "maxLength" in prop:
                constraints.append(f"max_length={prop['maxLength']}")
            return annotation, constraints
        if kind in ("integer", "number"):
            int32 = {"minimum": INT32_MIN, "maximum": INT32_MAX}
            for keyword_, arg in (("minimum", "ge"), ("maximum", "le")):
                if keyword_ in prop or kind == "integer":
                    limit = prop.get(keyword_, int32[keyword_])
                    if kind == "integer" and float(limit).is_integer():
                        limit = int(limit)  # the schemas write integer bounds as 0.0
                    constraints.append(f"{arg}={limit!r}")
            if "multipleOf" in prop:
                constraints.append(f"multiple_of={prop['multipleOf']!r}")
            return ("int" if kind == "integer" else "float"), constraints
        if kind == "boolean":
            return "bool", constraints
        if kind == "array":
            annotation = f"list[{self.item_type(prop['items'], where)}]"
            if "minItems" in prop:
                constraints.append(f"min_length={prop['minItems']}")
            if "maxItems" in prop:
                constraints.append(f"max_length={prop['maxItems']}")
            return annotation, constraints
        raise SchemaError(f"{where}: unsupported type {kind!r}")

    def render_model(self, name: str, node: dict[str, Any], where: str) -> list[str]:
        if node.get("type") != "object":
            raise SchemaError(f"{where}: expected an object")
        lines = [f"class {name}(BaseModel):"]
        doc = clean_description(node.get("description"))
        if doc:
            lines += docstring(doc, "    ")
            lines.append("")
        extra = "forbid" if node.get("additionalProperties") is False else "allow"
        lines += [
            "    model_config = ConfigDict(",
            f'        extra="{extra}",',
            "        validate_by_name=True,",
            "        validate_by_alias=True,",
            "        serialize_by_alias=True,",
            "    )",
        ]
        required = node.get("required", [])
        properties = node.get("properties", {})
        missing = set(required) - set(properties)
        if missing:
            raise SchemaError(f"{where}: required but undefined {sorted(missing)}")
        used: set[str] = set()
        for json_name, prop in properties.items():
            attr = snake_case(json_name)
            if not attr.isidentifier():
                raise SchemaError(f"{where}.{json_name}: cannot make an identifier")
            if keyword.iskeyword(attr) or attr in RESERVED_FIELD_NAMES or attr.startswith("_"):
                attr += "_"
            if attr in used:
                raise SchemaError(f"{where}.{json_name}: field name {attr} is used twice")
            used.add(attr)
            open_field = (
                (self.open_fields[(name, json_name)],)
                if (name, json_name) in self.open_fields
                else None
            )
            annotation, constraints = self.field_type(prop, f"{where}.{json_name}", open_field)
            args: list[str] = []
            if json_name not in required:
                if annotation != "Any":
                    annotation += " | None"
                args.append("default=None")
            args.append(f"alias={py_str(json_name)}")
            args += constraints
            description = clean_description(prop.get("description"))
            if description:
                args.append(f"description={py_str(description)}")
            lines.append("")
            default = prop.get(
                "default",
                self.defs.get(ref_name(prop["$ref"]), {}).get("default")
                if "$ref" in prop
                else None,
            )
            if default is not None:
                lines.append(
                    f"    # Schema default: {json.dumps(default)} (None here means absent)."
                )
            single = f"    {attr}: {annotation} = Field({', '.join(args)})"
            if len(single) <= LINE_LENGTH:
                lines.append(single)
            else:
                lines.append(f"    {attr}: {annotation} = Field(")
                lines += [f"        {arg}," for arg in args]
                lines.append("    )")
        return lines

    def render(self) -> str:
        blocks: list[list[str]] = []
        names: list[str] = []
        for name in self.ordered_definitions():
            definition = self.defs[name]
            if "enum" in definition:
                blocks.append(self.render_enum(name, definition))
            else:
                blocks.append(self.render_model(name, definition, f"{self.action}#{name}"))
            names.append(name)
        for class_name, file_name, schema in self.schemas:
            blocks.append(self.render_model(class_name, schema, file_name))
            names.append(class_name)

        sources = ", ".join(file_name for _, file_name, _ in self.schemas)
        out = [
            f"# GENERATED by {GENERATOR} from {sources} -- do not edit by hand.",
            f'"""OCPP {self.label} ``{self.action}`` messages: {" and ".join(c for c, _, _ in self.schemas)}."""',
            "",
        ]
        if "datetime" in self.imports:
            out.append("from datetime import datetime")
        if "StrEnum" in self.imports:
            out.append("from enum import StrEnum")
        typing_names = sorted(n for n in ("Annotated", "Any") if n in self.imports)
        if typing_names:
            out.append(f"from typing import {', '.join(typing_names)}")
        if out[-1]:
            out.append("")
        out += ["from pydantic import BaseModel, ConfigDict, Field", ""]
        for block in blocks:
            out += ["", *block, ""]
        out += ["", "__all__ = ["]
        out += [f"    {py_str(n)}," for n in names]
        out.append("]")
        return "\n".join(out) + "\n"


def action_names(schema_dir: Path) -> list[str]:
    requests = {p.name[: -len("Request.json")] for p in schema_dir.glob("*Request.json")}
    responses = {p.name[: -len("Response.json")] for p in schema_dir.glob("*Response.json")}
    if requests != responses:
        raise SchemaError(f"unpaired schemas: {sorted(requests ^ responses)}")
    return sorted(requests)


def render_init(actions: list[str], version: str = "v201", label: str = "2.0.1") -> str:
    out = [
        f"# GENERATED by {GENERATOR} from src/ocpp_schema/schemas/{version}/*.json -- do not edit by hand.",
        f'"""Pydantic v2 models of every OCPP {label} action, one module per action.',
        "",
        "Each module is self-contained: it also defines the nested types (``IdTokenType``,",
        "``StatusInfoType``, ...) its two schemas use, so those are duplicated across modules.",
        '"""',
        "",
        "from pydantic import BaseModel",
        "",
    ]
    for action in actions:
        line = f"from .{snake_case(action)} import {action}Request, {action}Response"
        if len(line) <= LINE_LENGTH:
            out.append(line)
        else:
            out += [
                f"from .{snake_case(action)} import (",
                f"    {action}Request,",
                f"    {action}Response,",
                ")",
            ]
    out += ["", "REQUEST_MODELS: dict[str, type[BaseModel]] = {"]
    out += [f'    "{a}": {a}Request,' for a in actions]
    out += ["}", "", "RESPONSE_MODELS: dict[str, type[BaseModel]] = {"]
    out += [f'    "{a}": {a}Response,' for a in actions]
    out += ["}", "", "__all__ = ["]
    out += ['    "REQUEST_MODELS",', '    "RESPONSE_MODELS",']
    for action in actions:
        out += [f'    "{action}Request",', f'    "{action}Response",']
    out.append("]")
    return "\n".join(out) + "\n"


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _is_inline_object(node: dict[str, Any]) -> bool:
    return node.get("type") == "object" and "$ref" not in node


def _is_inline_enum(node: dict[str, Any]) -> bool:
    return "enum" in node and "$ref" not in node


def hoist_inline_types(
    schemas: list[tuple[str, str, dict[str, Any]]],
) -> dict[tuple[str, str], int | None]:
    """Move the inline objects and enums of an action's schemas into ``definitions``
    (in place), so that every nested type gets a class name (OCPP 1.6 declares them inline).
    Returns the OPEN_FIELDS_16 fields found, as (class name, field) -> maxLength."""
    opened: dict[tuple[str, str], int | None] = {}
    taken: dict[str, Any] = {}
    for _, _, schema in schemas:
        for name, definition in schema.get("definitions", {}).items():
            taken[name] = _without_descriptions(definition)
    roots = {class_name for class_name, _, _ in schemas}

    def register(schema: dict[str, Any], name: str, parent: str, node: dict[str, Any]) -> str:
        stripped = _without_descriptions(node)
        candidates = [name, parent + name] + [f"{parent}{name}{i}" for i in range(2, 10)]
        for candidate in candidates:
            if candidate in roots:
                continue
            if candidate not in taken:
                taken[candidate] = stripped
                schema.setdefault("definitions", {})[candidate] = node
                return candidate
            if taken[candidate] == stripped:
                schema.setdefault("definitions", {}).setdefault(candidate, node)
                return candidate
        raise SchemaError(f"cannot name the inline type at {parent}.{name}")

    def as_ref(
        schema: dict[str, Any], prop_name: str, parent: str, node: dict[str, Any], holder: str
    ):
        """``node`` unchanged, or a $ref to the definition it was hoisted into."""
        if _is_inline_object(node):
            definition = {k: v for k, v in node.items() if k != "description"}
            name = register(schema, _pascal(prop_name), parent, definition)
            visit_object(schema, name, definition, prop_name)
        elif _is_inline_enum(node):
            if (holder, prop_name) in OPEN_FIELDS_16:
                opened[(parent, prop_name)] = OPEN_FIELDS_16[(holder, prop_name)]
            definition = {k: v for k, v in node.items() if k in ("type", "enum", "default")}
            name = register(schema, _pascal(prop_name) + "Enum", parent, definition)
        else:
            return node
        ref: dict[str, Any] = {"$ref": f"#/definitions/{name}"}
        if "description" in node:
            ref["description"] = node["description"]
        return ref

    def visit_object(
        schema: dict[str, Any], owner: str, node: dict[str, Any], holder: str = ""
    ) -> None:
        """``holder``: the property whose value (or array items) ``node`` is."""
        for prop_name, prop in list(node.get("properties", {}).items()):
            if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
                prop["items"] = as_ref(schema, prop_name, owner, prop["items"], holder)
            else:
                node["properties"][prop_name] = as_ref(schema, prop_name, owner, prop, holder)

    for class_name, _, schema in schemas:
        for name, definition in list(schema.get("definitions", {}).items()):
            visit_object(schema, name, definition)
        visit_object(schema, class_name, schema)
    return opened


def generate(schema_dir: Path = DEFAULT_SCHEMA_DIR, version: str = "v201") -> dict[str, str]:
    """File name -> content of every generated module."""
    label = VERSIONS[version][0]
    actions = action_names(schema_dir)
    files: dict[str, str] = {}
    modules: dict[str, str] = {}
    for action in actions:
        module = snake_case(action)
        if module in modules:
            raise SchemaError(f"{action} and {modules[module]} map to module {module}")
        modules[module] = action
        schemas = [
            (
                f"{action}{kind}",
                f"{action}{kind}.json",
                load_schema(schema_dir / f"{action}{kind}.json"),
            )
            for kind in ("Request", "Response")
        ]
        open_fields = hoist_inline_types(schemas) if version != "v201" else {}
        files[f"{module}.py"] = ModuleWriter(action, schemas, label, open_fields).render()
    files["__init__.py"] = render_init(actions, version, label)
    return files


def write(out_dir: Path, files: dict[str, str]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in sorted(out_dir.glob("*.py")):
        if stale.name not in files:
            stale.unlink()
    for name, content in sorted(files.items()):
        path = out_dir / name
        if not path.exists() or path.read_bytes() != content.encode("utf-8"):
            path.write_bytes(content.encode("utf-8"))


def differences(out_dir: Path, files: dict[str, str]) -> list[str]:
    """Human-readable list of files in ``out_dir`` that differ from ``files``."""
    existing = {p.name for p in out_dir.glob("*.py")} if out_dir.is_dir() else set()
    problems = [f"missing: {n}" for n in sorted(set(files) - existing)]
    problems += [f"extra: {n}" for n in sorted(existing - set(files))]
    problems += [
        f"differs: {n}"
        for n in sorted(set(files) & existing)
        if (out_dir / n).read_bytes() != files[n].encode("utf-8")
    ]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--version",
        choices=[*VERSIONS, "all"],
        default=None,
        help="OCPP version to generate (default: all, or v201 when --out/--schemas is given)",
    )
    parser.add_argument("--out", type=Path, default=None, help="output directory")
    parser.add_argument("--schemas", type=Path, default=None, help="schema directory")
    parser.add_argument(
        "--check", action="store_true", help="only report whether --out is up to date"
    )
    args = parser.parse_args(argv)
    version = args.version
    if version is None:
        version = "v201" if args.out is not None or args.schemas is not None else "all"
    if version == "all" and (args.out is not None or args.schemas is not None):
        parser.error("--out and --schemas need a single --version")
    status = 0
    for name in VERSIONS if version == "all" else [version]:
        _, schema_dir, out_dir = VERSIONS[name]
        schema_dir = args.schemas or schema_dir
        out_dir = args.out or out_dir
        files = generate(schema_dir, name)
        if args.check:
            problems = differences(out_dir, files)
            for problem in problems:
                print(f"{name}: {problem}", file=sys.stderr)
            status = status or (1 if problems else 0)
            continue
        write(out_dir, files)
        print(f"wrote {len(files)} files to {out_dir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
