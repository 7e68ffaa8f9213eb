//! The OpenAPI 3.1 document, served at `/openapi.json` and printed by `keygate openapi`.

use serde_json::{Map, Value, json};

use super::dto::{input_type_name, view_type_name};
use crate::ir::{Action, Auth, Encoding, Entity, ErrorFamily, FieldType, Format, Ir, Op, ResponseShape};

pub(super) fn emit_openapi(ir: &Ir) -> String {
    let mut schemas = Map::new();
    schemas.insert("Problem".into(), problem_schema());
    let mut paths: Map<String, Value> = Map::new();
    for entity in &ir.entities {
        if published(entity, ir) {
            schemas.insert(view_type_name(entity), view_schema(entity, ir));
        }
        for op in &entity.ops {
            if op.action.has_body() {
                schemas.insert(input_type_name(entity, op), input_schema(entity, op));
            }
            if op.action == Action::List {
                schemas.insert(format!("{}Page", entity.pascal), page_schema(entity));
            }
            let item = paths.entry(op.path.clone()).or_insert_with(|| json!({}));
            item[op.method.to_ascii_lowercase()] = operation(entity, op, ir);
        }
    }
    for endpoint in &ir.endpoints {
        let item = paths.entry(endpoint.path.clone()).or_insert_with(|| json!({}));
        let mut operation = json!({
            "operationId": endpoint.route_fn,
            "summary": endpoint.doc,
            "tags": ["endpoints"],
            "responses": { "200": { "description": "See the protocol specification named in the summary." } },
        });
        let media = match endpoint.errors {
            ErrorFamily::OAuth | ErrorFamily::Bearer => "application/json",
            ErrorFamily::Problem => "application/problem+json",
            ErrorFamily::Page => "text/html",
        };
        let problem = |description: &str| json!({ "description": description, "content": { media: {} } });
        operation["responses"]["400"] =
            problem("Malformed request (OAuth endpoints answer in RFC 6749 section 5.2 form).");
        // Protocol handlers refuse in their protocol's terms (401, 403, 409, 415, 422, 429, ...).
        operation["responses"]["4XX"] = problem("Refused, in the format of the protocol named in the summary.");
        if endpoint.tenant_scoped {
            operation["responses"]["404"] = problem("No such tenant.");
        }
        if endpoint.auth != Auth::Public {
            operation["responses"]["401"] = problem("Missing or wrong credentials.");
        }
        if endpoint.auth == Auth::Client {
            // Basic, or `client_secret_post` credentials in the form (no header).
            operation["security"] = json!([{ "client": [] }, {}]);
        }
        if matches!(endpoint.method.as_str(), "POST" | "PUT" | "PATCH") {
            operation["requestBody"] = match endpoint.encoding {
                Encoding::Form => json!({ "required": true, "content": { "application/x-www-form-urlencoded": {
                    "schema": { "type": "object", "additionalProperties": { "type": "string" } } } } }),
                Encoding::Json => json!({ "content": { "application/json": { "schema": { "type": "object" } } } }),
            };
        }
        let mut parameters = Vec::new();
        if endpoint.tenant_scoped {
            let key = ir.tenancy.as_ref().map(|t| t.key.as_str()).unwrap_or("key");
            parameters.push(json!({ "name": "tenant", "in": "path", "required": true, "schema": { "type": "string" }, "description": format!("The tenant's `{key}`.") }));
        }
        if endpoint.path.contains("{id}") {
            parameters.push(json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" }, "description": "The id of the resource the endpoint manages." }));
        }
        if !parameters.is_empty() {
            operation["parameters"] = json!(parameters);
        }
        if endpoint.auth == Auth::Admin {
            operation["security"] = json!([{ "admin": [] }]);
        }
        item[endpoint.method.to_ascii_lowercase()] = operation;
    }
    let document = json!({
        "openapi": "3.1.0",
        "info": { "title": ir.title, "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "admin": { "type": "http", "scheme": "bearer", "description": "The admin credential printed on first start or set with KEYGATE_ADMIN_TOKEN, or a superadmin's access token or API key; where an op's rule admits other users or services, theirs." },
                "client": { "type": "http", "scheme": "basic", "description": "OAuth client authentication (RFC 6749 section 2.3), checked before the endpoint runs: client_secret_basic; client_secret_post or private_key_jwt in the form also work, and a public client sends only client_id." }
            }
        }
    });
    serde_json::to_string_pretty(&document).expect("JSON values serialise") + "\n"
}

/// Whether a response can show the entity's rows: it has an op, or a published entity embeds
/// them (`?include=`). Internal tables without ops are left out of the document.
fn published(entity: &Entity, ir: &Ir) -> bool {
    let mut seen = vec![entity.name.as_str()];
    let mut pending = vec![entity.name.as_str()];
    while let Some(name) = pending.pop() {
        let Some(current) = ir.entities.iter().find(|e| e.name == name) else { continue };
        if !current.ops.is_empty() {
            return true;
        }
        let parents = ir.entities.iter().filter(|e| e.relations.iter().any(|r| r.entity == name));
        for parent in parents {
            if !seen.contains(&parent.name.as_str()) {
                seen.push(&parent.name);
                pending.push(&parent.name);
            }
        }
    }
    false
}

fn type_schema(ty: &FieldType, nullable: bool) -> Value {
    let mut schema = match ty {
        FieldType::Uuid => json!({ "type": "string", "format": "uuid" }),
        FieldType::String | FieldType::Text => json!({ "type": "string" }),
        FieldType::Integer => json!({ "type": "integer", "format": "int64" }),
        FieldType::Bool => json!({ "type": "boolean" }),
        FieldType::Timestamp => json!({ "type": "string", "format": "date-time" }),
        FieldType::Json => json!({}),
        FieldType::Strings => json!({ "type": "array", "items": { "type": "string" } }),
        FieldType::Enum { values, .. } => json!({ "type": "string", "enum": values }),
    };
    if nullable && let Some(t) = schema.get("type").cloned() {
        schema["type"] = json!([t, "null"]);
    }
    schema
}

fn with_doc(mut schema: Value, doc: &str) -> Value {
    if !doc.is_empty() {
        schema["description"] = json!(doc);
    }
    schema
}

fn view_schema(entity: &Entity, ir: &Ir) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in entity.fields.iter().filter(|f| f.visibility.is_readable()) {
        properties.insert(field.name.clone(), with_doc(type_schema(&field.ty, field.nullable), &field.doc));
        required.push(field.name.clone());
    }
    for output in entity.virtuals.iter().filter(|v| v.output) {
        let mut schema = with_doc(type_schema(&output.ty, false), &output.doc);
        schema["readOnly"] = json!(true);
        properties.insert(output.name.clone(), schema);
    }
    for relation in &entity.relations {
        let child = ir.entities.iter().find(|e| e.name == relation.entity).expect("validated relation");
        properties.insert(
            relation.name.clone(),
            json!({ "type": "array", "items": { "$ref": format!("#/components/schemas/{}", view_type_name(child)) },
                    "description": format!("Present with `?include={}`.", relation.name) }),
        );
    }
    with_doc(json!({ "type": "object", "properties": properties, "required": required }), &entity.doc)
}

fn input_schema(entity: &Entity, op: &Op) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let create = op.action == Action::Create;
    for name in &op.input {
        let (mut schema, is_required) = match entity.field(name) {
            Some(field) => {
                let mut schema = with_doc(type_schema(&field.ty, field.nullable), &field.doc);
                if let Some(n) = field.max_length {
                    schema["maxLength"] = json!(n);
                }
                if let Some(n) = field.minimum {
                    schema["minimum"] = json!(n);
                }
                if let Some(n) = field.maximum {
                    schema["maximum"] = json!(n);
                }
                if let Some(n) = field.min_length {
                    schema["minLength"] = json!(n);
                }
                match field.format {
                    Some(Format::Email) => schema["format"] = json!("email"),
                    Some(Format::Uri) => schema["format"] = json!("uri"),
                    Some(Format::Slug) => schema["pattern"] = json!("^[a-z0-9]+(-[a-z0-9]+)*$"),
                    None => {}
                }
                (schema, create && field.required_on_create())
            }
            None => {
                let virtual_field = entity.virtual_field(name).expect("validated input");
                let mut schema = with_doc(type_schema(&virtual_field.ty, false), &virtual_field.doc);
                schema["writeOnly"] = json!(true);
                if let Some(n) = virtual_field.min_length {
                    schema["minLength"] = json!(n);
                }
                if let Some(n) = virtual_field.max_length {
                    schema["maxLength"] = json!(n);
                }
                (schema, create && virtual_field.required)
            }
        };
        if schema.is_null() {
            schema = json!({});
        }
        properties.insert(name.clone(), schema);
        if is_required {
            required.push(name.clone());
        }
    }
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

fn page_schema(entity: &Entity) -> Value {
    json!({
        "type": "object",
        "properties": {
            "items": { "type": "array", "items": { "$ref": format!("#/components/schemas/{}", view_type_name(entity)) } },
            "next_cursor": { "type": ["string", "null"], "description": "Pass as `?cursor=` for the next page; null on the last page." }
        },
        "required": ["items", "next_cursor"]
    })
}

fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "RFC 9457 problem details.",
        "properties": {
            "type": { "type": "string" },
            "title": { "type": "string" },
            "status": { "type": "integer" },
            "detail": { "type": "string" },
            "errors": {
                "type": "array",
                "items": { "type": "object", "properties": { "field": { "type": "string" }, "detail": { "type": "string" } } }
            }
        },
        "required": ["type", "title", "status"]
    })
}

fn operation(entity: &Entity, op: &Op, ir: &Ir) -> Value {
    let mut parameters = Vec::new();
    if op.path.contains("{tenant}") {
        let key = ir.tenancy.as_ref().map(|t| t.key.as_str()).unwrap_or("key");
        parameters.push(json!({ "name": "tenant", "in": "path", "required": true, "schema": { "type": "string" }, "description": format!("The tenant's `{key}`.") }));
    }
    if op.path.contains("{id}") {
        parameters.push(
            json!({ "name": "id", "in": "path", "required": true, "schema": type_schema(&entity.pk().ty, false) }),
        );
    }
    if op.action == Action::Read && !entity.relations.is_empty() {
        let names: Vec<_> = entity.relations.iter().map(|r| r.name.clone()).collect();
        parameters.push(json!({
            "name": "include", "in": "query", "style": "form", "explode": false,
            "schema": { "type": "array", "items": { "type": "string", "enum": names } },
            "description": "Relations to embed, comma-separated."
        }));
    }
    if let Some(list) = &op.list {
        for filter in &list.filters {
            let field = entity.field(filter).expect("validated filter");
            parameters.push(json!({ "name": filter, "in": "query", "schema": type_schema(&field.ty, false), "description": "Only rows whose field equals this value." }));
        }
        let keys: Vec<String> = list.sort.iter().flat_map(|s| [s.clone(), format!("-{s}")]).collect();
        parameters.push(json!({ "name": "sort", "in": "query", "schema": { "type": "string", "enum": keys, "default": list.sort[0] } }));
        parameters.push(json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": list.max_page_size, "default": list.page_size } }));
        parameters.push(json!({ "name": "cursor", "in": "query", "schema": { "type": "string" } }));
    }
    let problem =
        json!({ "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } });
    let mut responses = Map::new();
    let success = match (op.response, op.action) {
        (ResponseShape::Empty, _) | (_, Action::Delete) => json!({ "description": "Done." }),
        (_, Action::List) => {
            json!({ "description": "A page of rows.", "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{}Page", entity.pascal) } } } })
        }
        _ => {
            json!({ "description": "The row.", "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{}", view_type_name(entity)) } } } })
        }
    };
    responses.insert(op.status.to_string(), success);
    let mut errors = vec![("400", "Malformed request.")];
    if matches!(op.auth, Auth::Admin | Auth::Rule) {
        errors.push(("401", "Missing or wrong credential."));
        errors.push(("403", "The credential does not allow this op (role, owner or tenant)."));
    }
    if op.action.is_item() || entity.tenant_scoped {
        errors.push(("404", "No such row or tenant."));
    }
    if op.action.has_body() {
        errors.push(("409", "Conflicts with an existing row."));
        errors.push(("413", "Body too large."));
        errors.push(("415", "Wrong content type."));
        errors.push(("422", "A field failed validation."));
    }
    for (status, description) in errors {
        let mut response = problem.clone();
        response["description"] = json!(description);
        responses.insert(status.into(), response);
    }
    let mut operation = json!({
        "operationId": op.handler,
        "summary": format!("{} {}", op.name, entity.name),
        "tags": [entity.name],
        "parameters": parameters,
        "responses": responses,
    });
    if matches!(op.auth, Auth::Admin | Auth::Rule) {
        operation["security"] = json!([{ "admin": [] }]);
    }
    if op.action.has_body() {
        let media = match op.encoding {
            Encoding::Json => "application/json",
            Encoding::Form => "application/x-www-form-urlencoded",
        };
        operation["requestBody"] = json!({
            "required": true,
            "content": { media: { "schema": { "$ref": format!("#/components/schemas/{}", input_type_name(entity, op)) } } }
        });
    }
    operation
}
