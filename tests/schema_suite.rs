//! The schema-driven suite: walks every entity and op in the compiled schema
//! (`keygate_api::SCHEMA`) and checks what a client would, so an entity added to `schema.yaml` is
//! tested without writing a test for it.
//!
//! Per entity: create, read, update, delete and list; filters and pagination; hidden fields never
//! returned; values returned once by hooks absent afterwards; tenant isolation; bad input answered
//! with a 4xx and nothing written (every written field gets NUL, over-length, wrong-type and
//! non-UTF-8 values); the admin credential required. Custom ops are called with
//! bodies built from their declared input and encoding.

mod support;

use std::collections::HashMap;

use actix_web::http::{Method, StatusCode};
use serde_json::{Map, Value, json};
use support::{Auth, Client, each_backend};

/// The compiled schema.
fn schema() -> Value {
    serde_json::from_str(keygate_api::SCHEMA).expect("SCHEMA is JSON")
}

fn entities(schema: &Value) -> Vec<Value> {
    schema["entities"].as_array().cloned().unwrap_or_default()
}

fn entity<'s>(schema: &'s Value, name: &str) -> &'s Value {
    schema["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no entity {name}"))
}

fn op<'e>(entity: &'e Value, name: &str) -> Option<&'e Value> {
    entity["ops"].as_array().unwrap().iter().find(|o| o["name"] == name)
}

fn fields(entity: &Value) -> &Vec<Value> {
    entity["fields"].as_array().unwrap()
}

fn field<'e>(entity: &'e Value, name: &str) -> Option<&'e Value> {
    fields(entity).iter().find(|f| f["name"] == name)
}

fn virtual_field<'e>(entity: &'e Value, name: &str) -> Option<&'e Value> {
    entity["virtuals"].as_array().unwrap().iter().find(|v| v["name"] == name)
}

/// A route path with `{tenant}` and `{id}` filled in.
fn path(template: &str, tenant: &str, id: Option<&str>) -> String {
    let filled = template.replace("{tenant}", tenant);
    match id {
        Some(id) => filled.replace("{id}", id),
        None => filled,
    }
}

/// Builds request bodies, creating referenced rows on demand.
struct Builder<'c, 'a> {
    client: &'c Client<'a>,
    schema: Value,
    counter: u32,
    /// Rows created per `(tenant, entity)`, reused as reference targets.
    made: HashMap<(String, String), String>,
}

impl Builder<'_, '_> {
    fn next(&mut self) -> u32 {
        self.counter += 1;
        self.counter
    }

    /// A valid value for a field (stored or virtual) of the given shape.
    fn sample(&mut self, spec: &Value) -> Value {
        let n = self.next();
        let max = spec["max_length"].as_u64().unwrap_or(64) as usize;
        let min = spec["min_length"].as_u64().unwrap_or(0) as usize;
        match spec["type"]["kind"].as_str().unwrap() {
            "uuid" => json!(uuid::Uuid::new_v4()),
            "string" | "text" => {
                let text = match spec["format"].as_str() {
                    Some("email") => format!("user{n}@example.com"),
                    Some("uri") => format!("https://example.com/{n}"),
                    Some("slug") => format!("s{n}"),
                    _ => format!("value-{n}-{}", "x".repeat(min.saturating_sub(8))),
                };
                json!(text.chars().take(max).collect::<String>())
            }
            "integer" => json!(spec["minimum"].as_i64().map_or(n as i64, |min| min + n as i64 % 10)),
            "bool" => json!(true),
            "timestamp" => json!("2030-01-02T03:04:05Z"),
            "json" => json!({ "sample": n }),
            "strings" => json!([format!("https://example.com/cb/{n}")]),
            "enum" => spec["type"]["values"][0].clone(),
            other => panic!("no sample for type {other}"),
        }
    }

    /// The id of a row of `target` in `tenant`, created if needed.
    async fn reference(&mut self, tenant: &str, target: &str) -> String {
        if let Some(id) = self.made.get(&(tenant.to_owned(), target.to_owned())) {
            return id.clone();
        }
        let entity = entity(&self.schema, target).clone();
        let created = Box::pin(self.create(&entity, tenant)).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "[{}] creating a {target} to reference: {}",
            self.client.backend,
            created.json
        );
        let id = created.str(entity["primary_key"].as_str().unwrap());
        self.made.insert((tenant.to_owned(), target.to_owned()), id.clone());
        id
    }

    /// A body for `op` with every accepted field that is required or references another row.
    async fn body(&mut self, entity: &Value, op: &Value, tenant: &str) -> Map<String, Value> {
        let mut body = Map::new();
        let create = op["action"] == "create";
        for name in op["input"].as_array().unwrap() {
            let name = name.as_str().unwrap();
            let value = if let Some(stored) = field(entity, name) {
                let required = !stored["nullable"].as_bool().unwrap() && stored["default"].is_null();
                if let Some(target) = stored["references"]["entity"].as_str() {
                    let creatable = self::op(self::entity(&self.schema, target), "create").is_some();
                    if !creatable && !required {
                        // An optional reference to rows only the protocol makes (sessions).
                        continue;
                    }
                    json!(Box::pin(self.reference(tenant, target)).await)
                } else if required || !create {
                    self.sample(&stored.clone())
                } else {
                    continue;
                }
            } else {
                let virtual_field = virtual_field(entity, name).unwrap().clone();
                if !virtual_field["required"].as_bool().unwrap() && !create {
                    continue;
                }
                self.sample(&virtual_field)
            };
            body.insert(name.to_owned(), value);
        }
        body
    }

    async fn create(&mut self, entity: &Value, tenant: &str) -> support::Reply {
        let create = op(entity, "create").expect("entity has a create op").clone();
        let body = Value::Object(self.body(entity, &create, tenant).await);
        self.client.post(&path(create["path"].as_str().unwrap(), tenant, None), &body).await
    }
}

/// Names of the items of `entity[key]` that satisfy `keep`.
fn names(entity: &Value, key: &str, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    entity[key]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| keep(item))
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The names responses may carry: readable stored fields, outputs, relations.
fn readable(entity: &Value) -> Vec<String> {
    let mut all = names(entity, "fields", |f| matches!(f["visibility"].as_str(), Some("normal" | "read_only")));
    all.extend(names(entity, "virtuals", |v| v["output"] == true));
    all.extend(names(entity, "relations", |_| true));
    all
}

fn hidden(entity: &Value) -> Vec<String> {
    let mut all = names(entity, "fields", |f| matches!(f["visibility"].as_str(), Some("hidden" | "write_only")));
    all.extend(names(entity, "virtuals", |v| v["input"] == true));
    all
}

/// Outputs a hook of `op` fills: returned by that op, and never again.
fn outputs_of(entity: &Value, op: &Value) -> Vec<String> {
    let mut names = Vec::new();
    for call in op["pre"].as_array().unwrap().iter().chain(op["post"].as_array().unwrap()) {
        for binding in call["bindings"].as_array().unwrap() {
            if binding["kind"] == "output" {
                names.push(binding["field"].as_str().unwrap().to_owned());
            }
        }
    }
    let _ = entity;
    names
}

fn assert_view(entity: &Value, view: &Value, context: &str) {
    let object = view.as_object().unwrap_or_else(|| panic!("{context}: not an object: {view}"));
    let allowed = readable(entity);
    for key in object.keys() {
        assert!(allowed.contains(key), "{context}: `{key}` must not be in a response: {view}");
    }
    for secret in hidden(entity) {
        assert!(!object.contains_key(&secret), "{context}: hidden `{secret}` leaked: {view}");
    }
    for f in fields(entity).iter().filter(|f| matches!(f["visibility"].as_str(), Some("normal" | "read_only"))) {
        let name = f["name"].as_str().unwrap();
        assert!(object.contains_key(name), "{context}: readable `{name}` missing: {view}");
    }
}

#[actix_web::test]
async fn every_entity_supports_its_declared_ops() {
    each_backend(async |client: &Client<'_>| {
        let schema = schema();
        let tenancy = schema["tenancy"].clone();
        let tenant_entity = entity(&schema, tenancy["entity"].as_str().unwrap()).clone();
        let tenant_key = tenancy["key"].as_str().unwrap();
        let mut builder = Builder { client, schema: schema.clone(), counter: 0, made: HashMap::new() };

        // Two tenants: everything happens in `a`; `b` must never see it.
        let mut tenants = Vec::new();
        for slug in ["suite-a", "suite-b"] {
            let create = op(&tenant_entity, "create").unwrap();
            let mut body = builder.body(&tenant_entity, create, "").await;
            body.insert(tenant_key.to_owned(), json!(slug));
            let reply = client.post(create["path"].as_str().unwrap(), &Value::Object(body)).await;
            assert_eq!(reply.status, StatusCode::CREATED, "[{}] tenant: {}", client.backend, reply.json);
            tenants.push(slug);
        }
        let (a, b) = (tenants[0], tenants[1]);

        for entity in entities(&schema) {
            let name = entity["name"].as_str().unwrap().to_owned();
            let ctx = format!("[{}] {name}", client.backend);
            let scoped = entity["tenant_scoped"] == true;
            let tenant = if scoped { a } else { "" };
            let pk = entity["primary_key"].as_str().unwrap().to_owned();
            let Some(create) = op(&entity, "create").cloned() else { continue };
            let list = op(&entity, "list").cloned();
            let collection = list.as_ref().map(|l| path(l["path"].as_str().unwrap(), tenant, None));
            let count = async |c: &Option<String>| match c {
                Some(c) => client.list_all(c).await.len(),
                None => 0,
            };
            let before = count(&collection).await;

            // The admin credential is required.
            let body = Value::Object(builder.body(&entity, &create, tenant).await);
            let create_path = path(create["path"].as_str().unwrap(), tenant, None);
            if create["auth"] == "admin" {
                let denied = client.json(Method::POST, &create_path, Some(&body), Auth::None).await;
                assert_eq!(denied.status, StatusCode::UNAUTHORIZED, "{ctx}: create without credential");
                assert!(denied.headers.contains_key("www-authenticate"), "{ctx}: 401 without a challenge");
                let wrong = client.json(Method::POST, &create_path, Some(&body), Auth::Bearer("kga_wrong")).await;
                assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{ctx}: create with a wrong credential");
            }

            // Bad input: unknown field, wrong type, malformed JSON, wrong content type. Nothing written.
            let mut unknown = body.as_object().unwrap().clone();
            unknown.insert("no_such_field".into(), json!(1));
            let reply = client.post(&create_path, &Value::Object(unknown)).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{ctx}: unknown field: {}", reply.json);
            assert_eq!(reply.error_fields(), ["no_such_field"], "{ctx}: the problem names the field");
            if let Some((key, _)) = body.as_object().unwrap().iter().next() {
                let mut wrong_type = body.as_object().unwrap().clone();
                wrong_type.insert(key.clone(), json!({ "not": "this" }));
                let reply = client.post(&create_path, &Value::Object(wrong_type)).await;
                assert_eq!(
                    reply.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{ctx}: wrong type for `{key}`: {}",
                    reply.json
                );
                assert_eq!(reply.error_fields(), std::slice::from_ref(key), "{ctx}: the problem names `{key}`");
            }
            let reply = client.raw(Method::POST, &create_path, "application/json", "{\"broken\": ", Auth::Admin).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{ctx}: malformed JSON");
            assert_eq!(reply.headers.get("content-type").unwrap(), "application/problem+json");
            let reply = client.raw(Method::POST, &create_path, "text/plain", "hello", Auth::Admin).await;
            assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ctx}: wrong content type");
            assert_eq!(count(&collection).await, before, "{ctx}: rejected requests wrote nothing");

            // Create: the response shows readable fields, hook outputs once, never secrets.
            let created = client.post(&create_path, &body).await;
            assert_eq!(
                created.status.as_u16(),
                create["status"].as_u64().unwrap() as u16,
                "{ctx}: create: {}",
                created.json
            );
            assert_view(&entity, &created.json, &format!("{ctx} create"));
            for output in outputs_of(&entity, &create) {
                let value = created.json[&output].as_str().unwrap_or_default();
                assert!(
                    value.len() >= 32,
                    "{ctx}: create returns `{output}` once, with real entropy: {}",
                    created.json
                );
            }
            let id = created.str(&pk);
            builder.made.insert((tenant.to_owned(), name.clone()), id.clone());

            // Read: the same row, without the once-only outputs.
            if let Some(read) = op(&entity, "read") {
                let read_path = path(read["path"].as_str().unwrap(), tenant, Some(&id));
                let reply = client.get(&read_path).await;
                assert_eq!(reply.status, StatusCode::OK, "{ctx}: read: {}", reply.json);
                assert_eq!(reply.json[&pk], created.json[&pk]);
                assert_view(&entity, &reply.json, &format!("{ctx} read"));
                for output in outputs_of(&entity, &create) {
                    assert!(reply.json.get(&output).is_none(), "{ctx}: `{output}` must be returned only once");
                }
                for relation in entity["relations"].as_array().unwrap() {
                    let relation = relation["name"].as_str().unwrap();
                    let reply = client.get(&format!("{read_path}?include={relation}")).await;
                    assert_eq!(reply.status, StatusCode::OK, "{ctx}: include {relation}");
                    assert!(reply.json[relation].is_array(), "{ctx}: include {relation} gives a list");
                }
                let reply = client.get(&format!("{read_path}?include=nothing_like_this")).await;
                assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{ctx}: unknown include");
                let missing = path(read["path"].as_str().unwrap(), tenant, Some(&uuid::Uuid::new_v4().to_string()));
                assert_eq!(client.get(&missing).await.status, StatusCode::NOT_FOUND, "{ctx}: missing row");
                let malformed = path(read["path"].as_str().unwrap(), tenant, Some("not-a-uuid"));
                assert!(client.get(&malformed).await.status.is_client_error(), "{ctx}: malformed id");
                if scoped {
                    let other = path(read["path"].as_str().unwrap(), b, Some(&id));
                    assert_eq!(client.get(&other).await.status, StatusCode::NOT_FOUND, "{ctx}: tenant b reads a's row");
                }
            }

            // List: the row is there; filters find it; one-row pages walk everything.
            if let (Some(list), Some(collection)) = (&list, &collection) {
                let all = client.list_all(collection).await;
                assert_eq!(all.len(), before + 1, "{ctx}: list after create");
                assert!(all.iter().any(|row| row[&pk] == created.json[&pk]), "{ctx}: created row listed");
                for row in &all {
                    assert_view(&entity, row, &format!("{ctx} list"));
                }
                for filter in list["list"]["filters"].as_array().unwrap() {
                    let filter = filter.as_str().unwrap();
                    let value = &created.json[filter];
                    let text = match value {
                        Value::String(s) => s.clone(),
                        Value::Null => continue,
                        other => other.to_string(),
                    };
                    let encoded: String = url_encode(&text);
                    let rows = client.list_all(&format!("{collection}?{filter}={encoded}")).await;
                    assert!(rows.iter().any(|r| r[&pk] == created.json[&pk]), "{ctx}: filter {filter}={text}");
                    assert!(rows.iter().all(|r| r[filter] == *value), "{ctx}: filter {filter} only matches");
                }
                let mut seen = Vec::new();
                let mut cursor: Option<String> = None;
                loop {
                    let url = match &cursor {
                        Some(c) => format!("{collection}?limit=1&cursor={c}"),
                        None => format!("{collection}?limit=1"),
                    };
                    let page = client.get(&url).await;
                    assert_eq!(page.status, StatusCode::OK, "{ctx}: page: {}", page.json);
                    let items = page.json["items"].as_array().unwrap();
                    assert!(items.len() <= 1, "{ctx}: limit=1");
                    seen.extend(items.iter().map(|i| i[&pk].clone()));
                    match page.json["next_cursor"].as_str() {
                        Some(next) => cursor = Some(next.to_owned()),
                        None => break,
                    }
                }
                assert_eq!(seen.len(), before + 1, "{ctx}: pagination walks every row once");
                let max = list["list"]["max_page_size"].as_u64().unwrap();
                let reply = client.get(&format!("{collection}?limit={}", max + 1)).await;
                assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{ctx}: page size is capped");
                let reply = client.get(&format!("{collection}?no_such_filter=1")).await;
                assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{ctx}: unknown filter");
                if scoped {
                    let other = path(list["path"].as_str().unwrap(), b, None);
                    let rows = client.list_all(&other).await;
                    assert!(rows.iter().all(|r| r[&pk] != created.json[&pk]), "{ctx}: tenant b lists a's row");
                }
            }

            // Update: change a plain writable field and read it back; other tenants cannot.
            if let Some(update) = op(&entity, "update") {
                let update_path = path(update["path"].as_str().unwrap(), tenant, Some(&id));
                let target = update["input"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|n| field(&entity, n.as_str().unwrap()))
                    .find(|f| {
                        f["references"].is_null()
                            && f["unique"] == "no"
                            && matches!(f["type"]["kind"].as_str(), Some("string" | "text" | "bool"))
                    });
                if let Some(target) = target {
                    let fname = target["name"].as_str().unwrap();
                    let new_value = match target["type"]["kind"].as_str() {
                        Some("bool") => json!(!created.json[fname].as_bool().unwrap_or(false)),
                        _ => {
                            let mut sample = builder.sample(target);
                            if let Some(s) = sample.as_str() {
                                sample = json!(format!("u{}", &s[1.min(s.len())..]));
                            }
                            sample
                        }
                    };
                    let patch = json!({ fname: new_value });
                    if scoped {
                        let other = path(update["path"].as_str().unwrap(), b, Some(&id));
                        assert_eq!(
                            client.patch(&other, &patch).await.status,
                            StatusCode::NOT_FOUND,
                            "{ctx}: tenant b updates a's row"
                        );
                    }
                    let reply = client.patch(&update_path, &patch).await;
                    assert_eq!(reply.status, StatusCode::OK, "{ctx}: update: {}", reply.json);
                    assert_eq!(reply.json[fname], new_value, "{ctx}: update applied");
                    assert_view(&entity, &reply.json, &format!("{ctx} update"));
                    if let Some(read) = op(&entity, "read") {
                        let again = client.get(&path(read["path"].as_str().unwrap(), tenant, Some(&id))).await;
                        assert_eq!(again.json[fname], new_value, "{ctx}: update persisted");
                    }
                }
                let reply = client.patch(&update_path, &json!({ "no_such_field": 1 })).await;
                assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{ctx}: update with unknown field");
            }

            // Custom ops that create rows: called with their own encoding.
            for custom in entity["ops"].as_array().unwrap().iter().filter(|o| {
                !["create", "read", "update", "delete", "list"].contains(&o["name"].as_str().unwrap())
                    && o["action"] == "create"
            }) {
                let before = count(&collection).await;
                let body = builder.body(&entity, custom, tenant).await;
                let custom_path = path(custom["path"].as_str().unwrap(), tenant, None);
                let reply = if custom["encoding"] == "form" {
                    let form: Vec<String> = body
                        .iter()
                        .map(|(k, v)| {
                            format!(
                                "{k}={}",
                                url_encode(v.as_str().map(String::from).unwrap_or_else(|| v.to_string()).as_str())
                            )
                        })
                        .collect();
                    client
                        .raw(
                            Method::POST,
                            &custom_path,
                            "application/x-www-form-urlencoded",
                            &form.join("&"),
                            Auth::Admin,
                        )
                        .await
                } else {
                    client.post(&custom_path, &Value::Object(body)).await
                };
                let op_name = custom["name"].as_str().unwrap();
                assert_eq!(
                    reply.status.as_u16(),
                    custom["status"].as_u64().unwrap() as u16,
                    "{ctx}: {op_name}: {}",
                    reply.json
                );
                assert_eq!(count(&collection).await, before + 1, "{ctx}: {op_name} wrote a row");
            }

            // Delete: other tenants cannot; then it is gone.
            if let Some(delete) = op(&entity, "delete") {
                if scoped {
                    let other = path(delete["path"].as_str().unwrap(), b, Some(&id));
                    assert_eq!(
                        client.delete(&other).await.status,
                        StatusCode::NOT_FOUND,
                        "{ctx}: tenant b deletes a's row"
                    );
                }
                let delete_path = path(delete["path"].as_str().unwrap(), tenant, Some(&id));
                let reply = client.delete(&delete_path).await;
                assert_eq!(reply.status, StatusCode::NO_CONTENT, "{ctx}: delete: {}", reply.json);
                builder.made.remove(&(tenant.to_owned(), name.clone()));
                if let Some(read) = op(&entity, "read") {
                    let reply = client.get(&path(read["path"].as_str().unwrap(), tenant, Some(&id))).await;
                    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{ctx}: read after delete");
                }
                assert_eq!(client.delete(&delete_path).await.status, StatusCode::NOT_FOUND, "{ctx}: second delete");
            }
        }
    })
    .await;
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The hostile values sent to a field of this shape: a NUL byte, one character over its
/// declared length, the wrong JSON type; for lists, a NUL inside an item and a non-list.
fn hostile_values(spec: &Value) -> Vec<(&'static str, Value)> {
    match spec["type"]["kind"].as_str().unwrap() {
        "string" | "text" => {
            let mut values = vec![("a NUL byte", json!("bad\u{0}value")), ("a number", json!(12345))];
            if let Some(max) = spec["max_length"].as_u64() {
                values.push(("one character too many", json!("x".repeat(max as usize + 1))));
            }
            values
        }
        "strings" => vec![("a NUL byte in an item", json!(["bad\u{0}"])), ("a string", json!("not a list"))],
        "json" => vec![("a NUL character", json!({ "k": "bad\u{0}" }))],
        "integer" => vec![("a string", json!("twelve"))],
        "uuid" => vec![("a non-UUID", json!("not-a-uuid\u{0}"))],
        _ => Vec::new(),
    }
}

/// Every op that writes a field refuses that field's hostile values with a 4xx and changes
/// nothing, on both backends: validation happens before the database, the same for each.
#[actix_web::test]
async fn every_written_field_refuses_hostile_values() {
    each_backend(async |client: &Client<'_>| {
        let schema = schema();
        let tenancy = schema["tenancy"].clone();
        let tenant_entity = entity(&schema, tenancy["entity"].as_str().unwrap()).clone();
        let mut builder = Builder { client, schema: schema.clone(), counter: 0, made: HashMap::new() };
        client.tenant("hostile").await;
        let mut failures = Vec::new();
        let mut sent = 0;
        for entity in entities(&schema) {
            let name = entity["name"].as_str().unwrap().to_owned();
            let tenant = if entity["tenant_scoped"] == true { "hostile" } else { "" };
            for op in entity["ops"].as_array().unwrap() {
                let action = op["action"].as_str().unwrap();
                if !matches!(action, "create" | "update") || op["encoding"] != "json" {
                    continue;
                }
                // For updates: an existing row, whose stored form must not change.
                let id = match action {
                    "update" if entity["name"] == tenant_entity["name"] => Some(
                        client.get("/admin/tenants?slug=hostile").await.json["items"][0]["id"]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                    ),
                    "update" => Some(builder.reference(tenant, &name).await),
                    _ => None,
                };
                let url = path(op["path"].as_str().unwrap(), tenant, id.as_deref());
                let before = match &id {
                    Some(_) => client.get(&url).await.json,
                    None => Value::Null,
                };
                let valid = builder.body(&entity, op, tenant).await;
                for input in op["input"].as_array().unwrap() {
                    let input = input.as_str().unwrap();
                    let spec = field(&entity, input).or_else(|| virtual_field(&entity, input)).unwrap().clone();
                    for (what, value) in hostile_values(&spec) {
                        let mut body = valid.clone();
                        if entity["name"] == tenant_entity["name"] && action == "create" {
                            body.insert(
                                tenancy["key"].as_str().unwrap().to_owned(),
                                json!(format!("h{}", builder.next())),
                            );
                        }
                        body.insert(input.to_owned(), value);
                        let method = Method::from_bytes(op["method"].as_str().unwrap().as_bytes()).unwrap();
                        let reply = client.json(method, &url, Some(&Value::Object(body)), Auth::Admin).await;
                        sent += 1;
                        let after = match &id {
                            Some(_) => client.get(&url).await.json,
                            None => Value::Null,
                        };
                        if !reply.status.is_client_error() || after != before {
                            failures.push(format!(
                                "[{}] {name}.{} `{input}` with {what}: {} {}{}",
                                client.backend,
                                op["name"].as_str().unwrap(),
                                reply.status,
                                reply.json,
                                if after != before { " (the row changed)" } else { "" }
                            ));
                        }
                    }
                }
                // Bytes that are not UTF-8 at all.
                let method = Method::from_bytes(op["method"].as_str().unwrap().as_bytes()).unwrap();
                let request = actix_web::test::TestRequest::default()
                    .method(method)
                    .uri(&url)
                    .insert_header(("content-type", "application/json"))
                    .insert_header(("authorization", format!("Bearer {}", support::ADMIN_TOKEN)))
                    .set_payload(b"{\"name\": \"\xff\xfe\"}".to_vec());
                let reply = client.send(request).await;
                if reply.status != StatusCode::BAD_REQUEST {
                    failures.push(format!(
                        "[{}] {name}.{} with invalid UTF-8: {}",
                        client.backend, op["name"], reply.status
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "hostile values not refused cleanly:\n{}", failures.join("\n"));
        eprintln!("[{}] {sent} hostile values refused", client.backend);
        assert!(sent > 100, "the suite reached the schema's written fields ({sent} values)");
    })
    .await;
}
