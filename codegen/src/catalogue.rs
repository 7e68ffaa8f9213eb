//! Every diagnostic the generator reports, declared once: its stable code, what triggers it,
//! how to fix it, and the hint line every instance shares when there is a standard one.
//!
//! Checks name a [`Code`], never a free-form string, so a code cannot be misspelt or invented on
//! the spot. The table in `docs/schema.md` (section 9) is this catalogue, row for row; a test
//! keeps the two equal, and another that every code is produced by at least one failing
//! fixture in `codegen/tests/fixtures/err/`.

use std::fmt;

macro_rules! catalogue {
    ($($variant:ident = $code:literal {
        summary: $summary:literal,
        fix: $fix:literal,
        $(hint: $hint:literal,)?
    })*) => {
        /// A diagnostic's code, shown as `error[schema::CODE]`. Codes are stable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(#[doc = $summary] $variant,)*
        }

        impl Code {
            /// Every code, in the order of `docs/schema.md`.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as written after `schema::`, e.g. `unknown-hook`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// What triggers it, in one line.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$variant => $summary,)*
                }
            }

            /// What to do about it, in one line (the instance's own hint is more precise).
            pub fn fix(self) -> &'static str {
                match self {
                    $(Code::$variant => $fix,)*
                }
            }

            /// The hint every instance shows unless it has a more precise one.
            pub fn hint(self) -> Option<&'static str> {
                match self {
                    $(Code::$variant => catalogue!(@hint $($hint)?),)*
                }
            }
        }
    };
    (@hint) => { None };
    (@hint $hint:literal) => { Some($hint) };
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

catalogue! {
    YamlSyntax = "yaml-syntax" {
        summary: "Invalid YAML, often an unquoted `{id}` inside `{ ... }`.",
        fix: "Close brackets and quotes; quote values containing braces.",
    }
    DuplicateKey = "duplicate-key" {
        summary: "A key twice in one mapping.",
        fix: "Merge the two entries.",
    }
    YamlShape = "yaml-shape" {
        summary: "A top level that is not a mapping, anchors, tags or complex keys.",
        fix: "Use plain mappings, lists and scalars.",
    }
    UnknownKey = "unknown-key" {
        summary: "A key the language does not have at that place.",
        fix: "Use one of the keys listed in the help.",
    }
    BadValue = "bad-value" {
        summary: "A value of the wrong kind (e.g. `nullable: 3`), or a missing `version` or `entities`.",
        fix: "Write the kind the message asks for.",
    }
    UnsupportedVersion = "unsupported-version" {
        summary: "`version` other than 1.",
        fix: "`version: 1`.",
        hint: "write `version: 1`",
    }
    BadPrefix = "bad-prefix" {
        summary: "`prefix` not starting with `/`.",
        fix: "`prefix: /admin`.",
    }
    NoEntities = "no-entities" {
        summary: "An empty `entities:`.",
        fix: "Declare an entity.",
        hint: "add an entry under `entities:`",
    }
    UnknownEntity = "unknown-entity" {
        summary: "`tenancy.entity`, `references.entity` or `has_many` naming no entity.",
        fix: "Fix the name.",
    }
    UnknownField = "unknown-field" {
        summary: "`tenancy.key` is not a field of the tenant entity.",
        fix: "Fix the name.",
    }
    BadTenancy = "bad-tenancy" {
        summary: "A tenant entity marked `tenant_scoped: true`, or a tenancy key that is not `unique: true`.",
        fix: "Remove `tenant_scoped`; add `unique: true` to the key.",
    }
    BadName = "bad-name" {
        summary: "An entity, field, virtual field, relation, op or endpoint name that is not snake_case, or a relation named like a field or virtual field.",
        fix: "Lowercase letters, digits, underscores; a distinct relation name.",
        hint: "use lowercase letters, digits and underscores, starting with a letter",
    }
    NoTenancy = "no-tenancy" {
        summary: "`tenant_scoped: true`, or a tenant-scoped endpoint, without `tenancy:`.",
        fix: "Add `tenancy: { entity: tenant, key: slug }`, or `scope: service` on the endpoint.",
    }
    ImplicitField = "implicit-field" {
        summary: "Declaring `tenant_id` on a scoped entity, or a field `primary_key:` or `timestamps:` declares.",
        fix: "Remove it.",
        hint: "remove this field",
    }
    NoPrimaryKey = "no-primary-key" {
        summary: "No field with `primary_key: true`, and no `primary_key:` on the entity.",
        fix: "Add `primary_key: id` to the entity.",
        hint: "add `primary_key: id` to the entity (the field `id: { type: uuid, primary_key: true, default: uuid_v4 }`)",
    }
    ManyPrimaryKeys = "many-primary-keys" {
        summary: "Several fields with `primary_key: true`.",
        fix: "Keep exactly one; mark others `unique`.",
    }
    BadPrimaryKey = "bad-primary-key" {
        summary: "A primary key that is not `type: uuid` with `default: uuid_v4` or `uuid_v7`.",
        fix: "`id: { type: uuid, primary_key: true, default: uuid_v4 }` (or `uuid_v7`); keep other identifiers as `unique` fields.",
    }
    MissingType = "missing-type" {
        summary: "A field or virtual field without `type`.",
        fix: "Add `type:`.",
    }
    UnknownType = "unknown-type" {
        summary: "A type not in the list (`int`, `datetime`, ...).",
        fix: "Use the type the help suggests.",
    }
    EnumWithoutValues = "enum-without-values" {
        summary: "`type: enum` without `values`.",
        fix: "Add `values: [a, b]`.",
        hint: "add `values: [first, second]`",
    }
    ValuesWithoutEnum = "values-without-enum" {
        summary: "`values` on a type other than `enum`.",
        fix: "`type: enum`, or remove `values`.",
        hint: "write `type: enum`",
    }
    BadEnumValue = "bad-enum-value" {
        summary: "An `enum` value that names no Rust variant (no letter or digit, not ASCII, or alike another value in UpperCamelCase), or an `enum` field whose Rust type name (the field name in UpperCamelCase) its entity's module already has (`model`, `column`, ...).",
        fix: "Rename the value or the field.",
    }
    BadDefault = "bad-default" {
        summary: "A default that does not fit the type (section 4).",
        fix: "Use an accepted default.",
    }
    BadOnUpdate = "bad-on-update" {
        summary: "`on_update` other than `now`, or on a non-timestamp.",
        fix: "`on_update: now` on a timestamp.",
    }
    BadUnique = "bad-unique" {
        summary: "`unique` other than `true`, `false`, `tenant`; `tenant` on an unscoped entity; `unique_across` naming fewer than two fields, or a field that is missing, not `string`/`text`, not `unique`, or unique in another scope than the others.",
        fix: "Fix the value or scope the entity; list unique string fields of one scope.",
    }
    BadOnDelete = "bad-on-delete" {
        summary: "Unknown `on_delete`, or `set_null` on a non-nullable field.",
        fix: "`cascade`, `restrict`, or add `nullable: true`.",
    }
    BadVisibility = "bad-visibility" {
        summary: "Several of `hidden`, `write_only`, `read_only`.",
        fix: "Pick one.",
        hint: "`hidden`: never in requests or responses; `write_only`: requests only; `read_only`: responses only",
    }
    BadFormat = "bad-format" {
        summary: "`format` other than `email`/`uri`; `format` or `pattern` on a field that is not `string` or `text`; both on one field.",
        fix: "Use a listed value on a string field; keep one of the two.",
    }
    BadPattern = "bad-pattern" {
        summary: "`pattern` other than `slug`.",
        fix: "`pattern: slug`.",
        hint: "write `pattern: slug`",
    }
    BadLength = "bad-length" {
        summary: "`max_length`/`min_length` on a stored or virtual field that is not `string` or `text`.",
        fix: "Remove it.",
    }
    BadRange = "bad-range" {
        summary: "`minimum`/`maximum` on a field that is not `integer`, or `maximum` below `minimum`.",
        fix: "Remove it, or swap the bounds.",
    }
    VirtualShadowsField = "virtual-shadows-field" {
        summary: "A virtual field named like a stored field.",
        fix: "Rename one.",
    }
    BadVirtual = "bad-virtual" {
        summary: "A virtual field with both or neither of `input`/`output`; `required` on an output.",
        fix: "Pick one; drop `required`.",
    }
    BadRelation = "bad-relation" {
        summary: "`via` missing on the child, or not referencing this entity.",
        fix: "Add `references: { entity: ... }` to it.",
    }
    UnknownOp = "unknown-op" {
        summary: "A custom op without `action`, or written as `true`/`false`.",
        fix: "`name: { action: create, http: POST /path }`.",
    }
    RedundantOp = "redundant-op" {
        summary: "A standard op switched off (`create: false`) on an `internal: true` entity, whose ops are off unless listed.",
        fix: "Remove it.",
        hint: "remove it; an internal entity has only the ops listed under `ops:`",
    }
    UnknownAction = "unknown-action" {
        summary: "`action` not one of the five, or `action` on a standard op.",
        fix: "`create`, `read`, `update`, `delete`, `list`; on a standard op, remove it or rename the op.",
    }
    CustomOpWithoutRoute = "custom-op-without-route" {
        summary: "A custom op without `http`.",
        fix: "Add `http: POST /table/name`.",
    }
    BadHttp = "bad-http" {
        summary: "An unreadable route, an unknown method or parameter, an item op without `{id}`, or `{tenant}` in a `scope: service` endpoint.",
        fix: "`http: \"PATCH /notes/{id}/publish\"`.",
    }
    BadEncoding = "bad-encoding" {
        summary: "An `encoding:` outside `json`/`form`.",
        fix: "Use a listed value.",
    }
    BadResponse = "bad-response" {
        summary: "A `response:` outside `record`/`empty`.",
        fix: "Use a listed value.",
    }
    BadStatus = "bad-status" {
        summary: "A success status outside 200 to 299.",
        fix: "A 2xx code.",
    }
    BadAuth = "bad-auth" {
        summary: "An `auth:` word that is neither a caller class nor a role in `access.roles`, `public` combined with others, or `owner` on an entity without `owner:`; on an endpoint, a word other than `public`/`admin`/`client`, `auth: client` whose handler takes no `client` (or the reverse), or `auth: client` with `scope: service`.",
        fix: "Fix the word (a suggestion is given), declare the role, add `owner:`, or make `auth: client` and the handler's `client` parameter agree.",
    }
    BadOwner = "bad-owner" {
        summary: "`owner:` naming a field that is not a non-null `uuid`.",
        fix: "Name the field holding the owning user's id.",
        hint: "name the field holding the owning user's id, e.g. `owner: user_id`",
    }
    BadExpires = "bad-expires" {
        summary: "`expires:` naming a field that is not a `timestamp` of the entity.",
        fix: "Name the timestamp field past which a row is dead.",
        hint: "name the timestamp field past which housekeeping deletes a row, e.g. `expires: expires_at`",
    }
    InputWithoutBody = "input-without-body" {
        summary: "`input` on a read, delete or list op.",
        fix: "Remove it.",
    }
    BadInput = "bad-input" {
        summary: "An `input` entry that is the primary key, implicit, hidden, read-only, an output, or unknown.",
        fix: "List writable fields only.",
    }
    ListSetting = "list-setting" {
        summary: "`filters`, `sort`, `page_size` or `max_page_size` on an op that is not a list.",
        fix: "Move them to a list op.",
    }
    UnknownListField = "unknown-list-field" {
        summary: "A filter or sort key that is not a stored field.",
        fix: "Fix the name.",
    }
    BadListField = "bad-list-field" {
        summary: "A hidden or write-only filter or sort key, a `json`/`strings` one, or a nullable sort key.",
        fix: "Use a readable scalar field.",
    }
    BadPageSize = "bad-page-size" {
        summary: "`page_size` of 0 or above `max_page_size`.",
        fix: "A size between 1 and the maximum.",
    }
    HookOnRead = "hook-on-read" {
        summary: "A hook under `pre:` or `post:` of a read or list op.",
        fix: "Remove it; hooks belong to create, update and delete ops.",
        hint: "hooks belong to create, update and delete ops (and custom ops with those actions)",
    }
    UnknownHook = "unknown-hook" {
        summary: "A hook name with no function.",
        fix: "Fix the name or write the function.",
    }
    HookPhase = "hook-phase" {
        summary: "A prepare or pre hook under `post:`, or a post hook under `pre:`.",
        fix: "Move it.",
    }
    UnknownHookParam = "unknown-hook-param" {
        summary: "An `args:` key the hook does not have.",
        fix: "Use its parameter names.",
    }
    HookBinding = "hook-binding" {
        summary: "A parameter whose field is missing, of the wrong kind or type, or not accepted by the op; a `Column` on the primary key or `tenant_id`, in a post hook, or on an op without a body; an `Output` on a delete op.",
        fix: "Declare the field, rebind it with `args:`, or move the hook.",
    }
    ColumnNeverSet = "column-never-set" {
        summary: "A create that leaves a NOT NULL column without a value.",
        fix: "Default, nullable, `input`, or a pre hook that sets it.",
        hint: "give the field a `default`, make it `nullable: true`, accept it in `input`, or bind a pre hook that sets it",
    }
    BadScope = "bad-scope" {
        summary: "An endpoint's `scope:` other than `tenant`/`service`.",
        fix: "Use a listed value.",
    }
    BadCors = "bad-cors" {
        summary: "An unknown `cors:` value, or `cors: registered` on an endpoint with `scope: service`.",
        fix: "Use `none`, `any` or `registered`; registered origins need a tenant.",
    }
    BadErrors = "bad-errors" {
        summary: "An endpoint's `errors:` outside `problem`/`oauth`/`bearer`/`page`.",
        fix: "Use a listed value (with a suggestion for a near miss).",
    }
    UnknownHandler = "unknown-handler" {
        summary: "An endpoint whose `handler:` (or name) is no handler function.",
        fix: "Fix the name (a suggestion is given) or write the function.",
    }
    UnknownRole = "unknown-role" {
        summary: "A `plays:` value that is no role trait.",
        fix: "Fix the name (a suggestion is given).",
    }
    RoleBinding = "role-binding" {
        summary: "An entity bound to a role that is not tenant-scoped (nor the tenant entity), lacks a field the role reads or has it with another type, or that the role's constructor cannot fill.",
        fix: "Add or retype the fields the message names, or scope the entity.",
    }
    RoleEnumValues = "role-enum-values" {
        summary: "An `enum` field a role reads through a runtime enum allows a value that enum lacks.",
        fix: "Allow only the runtime enum's values (the help lists them).",
    }
    MissingRole = "missing-role" {
        summary: "An unbound role while a handler, hook or `cors: registered` reads entities through roles, or `auth:` rules identify users.",
        fix: "Add `plays: ROLE` to the entity that plays the role the help names.",
    }
    DuplicateRoute = "duplicate-route" {
        summary: "Two ops or endpoints with the same method and path shape.",
        fix: "Change one `http`.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_summaries_are_one_line() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "`{code}` is declared twice");
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '-'), "`{code}` is not kebab-case");
            for text in [code.summary(), code.fix()].into_iter().chain(code.hint()) {
                assert!(!text.contains('\n') && !text.contains('|'), "`{code}`: one line, no table bars: {text}");
            }
        }
    }
}
