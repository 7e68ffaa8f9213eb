//! HTTP plumbing shared by every generated handler: body extractors whose errors name the field,
//! path and query helpers, responses, health endpoints.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::family::ErrorFamily;
use crate::state::Runtime;

/// A JSON request body. Errors are problem+json: 415 for another content type, 413 past the
/// limit, 400 for malformed JSON, 422 naming the field for wrong types or unknown/missing fields.
pub struct JsonBody<T>(pub T);

/// A form-encoded request body (`application/x-www-form-urlencoded`), with the same errors.
pub struct FormBody<T>(pub T);

impl<T> JsonBody<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> FormBody<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

type BodyFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = BodyFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body =
            read_body(req, payload, "application/json", |mime| mime == "application/json" || mime.ends_with("+json"));
        Box::pin(async move {
            let bytes = body.await?;
            // Syntax first (400), then shape (422 naming the field), so a truncated body is never
            // reported as a field problem.
            let value: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
            serde_path_to_error::deserialize(value).map(JsonBody).map_err(json_error)
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for FormBody<T> {
    type Error = ApiError;
    type Future = BodyFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, "application/x-www-form-urlencoded", |mime| {
            mime == "application/x-www-form-urlencoded"
        });
        Box::pin(async move {
            let bytes = body.await?;
            let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&bytes));
            match serde_path_to_error::deserialize(deserializer) {
                Ok(value) => Ok(FormBody(value)),
                Err(error) => {
                    let field = error.path().to_string();
                    let inner = error.into_inner().to_string();
                    Err(field_or_request_error(&field, &inner))
                }
            }
        })
    }
}

fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    expected: &'static str,
    accepts: fn(&str) -> bool,
) -> impl Future<Output = Result<web::Bytes, ApiError>> + 'static {
    let mime = media_type(req);
    let body = read_limited(req, payload.take());
    async move {
        if !mime.as_deref().is_some_and(accepts) {
            return Err(ApiError::unsupported_media_type(expected));
        }
        body.await
    }
}

/// The media type of the request (`Content-Type` without parameters, lowercase).
fn media_type(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// Reads the body up to the configured `body_limit` (413 past it, before reading a body whose
/// `Content-Length` says it is too large). The one body limit of every route.
fn read_limited(
    req: &HttpRequest,
    mut payload: Payload,
) -> impl Future<Output = Result<web::Bytes, ApiError>> + 'static {
    let limit = req.app_data::<web::Data<Runtime>>().map(|rt| rt.config().body_limit).unwrap_or(64 * 1024);
    let declared_length =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    async move {
        if declared_length.is_some_and(|n| n > limit) {
            return Err(ApiError::payload_too_large(limit));
        }
        let mut body = web::BytesMut::new();
        use futures_util::StreamExt;
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::bad_request(format!("could not read the body: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::payload_too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

/// The body encoding an endpoint declares (`encoding:` in the schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/json` (or a `+json` type, RFC 6839 §3.1).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

impl Encoding {
    fn media_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Form => "application/x-www-form-urlencoded",
        }
    }

    fn accepts(self, mime: &str) -> bool {
        match self {
            Encoding::Json => mime == "application/json" || mime.ends_with("+json"),
            Encoding::Form => mime == "application/x-www-form-urlencoded",
        }
    }
}

/// The body of an endpoint request, read under the body limit and checked against the declared
/// encoding: an empty body is accepted as it is (the handler decides whether it needs one); any
/// other must have the declared media type (415) and be well-formed (400): JSON by its grammar
/// (RFC 8259), a form by the URL Standard's `application/x-www-form-urlencoded` with every
/// `%` escape complete and every decoded name and value UTF-8. The endpoint's family writes the
/// error.
pub async fn endpoint_body(
    req: &HttpRequest,
    payload: web::Payload,
    encoding: Encoding,
) -> Result<web::Bytes, ApiError> {
    let bytes = read_limited(req, payload.into_inner()).await?;
    if bytes.is_empty() {
        return Ok(bytes);
    }
    if !media_type(req).as_deref().is_some_and(|mime| encoding.accepts(mime)) {
        return Err(ApiError::unsupported_media_type(encoding.media_type()));
    }
    match encoding {
        Encoding::Json => {
            serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
                .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
        }
        Encoding::Form => check_form(&bytes)?,
    }
    Ok(bytes)
}

/// Refuses a form body with an incomplete `%` escape or a name or value that is not UTF-8 once
/// decoded (parsers would otherwise pass the escape through or substitute U+FFFD, so two
/// different bodies would read the same).
fn check_form(bytes: &[u8]) -> Result<(), ApiError> {
    fn hex(byte: u8) -> Option<u8> {
        (byte as char).to_digit(16).map(|d| d as u8)
    }
    for (index, part) in bytes.split(|b| *b == b'&').enumerate() {
        let mut decoded = Vec::with_capacity(part.len());
        let mut at = 0;
        while at < part.len() {
            if part[at] == b'%' {
                let pair = part.get(at + 1).copied().and_then(hex).zip(part.get(at + 2).copied().and_then(hex));
                let Some((high, low)) = pair else {
                    return Err(ApiError::bad_request(format!(
                        "the body is not form-encoded: parameter {} has an incomplete `%` escape",
                        index + 1
                    )));
                };
                decoded.push(high << 4 | low);
                at += 3;
            } else {
                decoded.push(part[at]);
                at += 1;
            }
        }
        if std::str::from_utf8(&decoded).is_err() {
            return Err(ApiError::bad_request(format!(
                "the body is not form-encoded: parameter {} is not UTF-8",
                index + 1
            )));
        }
    }
    Ok(())
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let field = error.path().to_string();
    let inner = error.into_inner();
    field_or_request_error(&field, &strip_position(&inner.to_string()))
}

/// A data error inside a field names that field (422); one about the whole body (an unknown or
/// missing field, a non-object) is reported against the field it mentions.
fn field_or_request_error(path: &str, message: &str) -> ApiError {
    if path != "." && !path.is_empty() {
        return ApiError::invalid_field(path, message);
    }
    for marker in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.split(marker).nth(1)
            && let Some(name) = rest.split('`').next()
        {
            return ApiError::invalid_field(name, message);
        }
    }
    ApiError::bad_request(message.to_owned())
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// A path segment declared in the route, e.g. `tenant`.
pub fn path_param<'r>(req: &'r HttpRequest, name: &str) -> Result<&'r str, ApiError> {
    req.match_info().get(name).ok_or_else(|| ApiError::internal(format!("route has no `{{{name}}}` segment")))
}

/// The `{id}` path segment, parsed; a malformed one is a 404 (no row can have that id).
pub fn id_param<T: FromStr>(req: &HttpRequest) -> Result<T, ApiError> {
    path_param(req, "id")?.parse().map_err(|_| ApiError::not_found("row with this id (malformed id)"))
}

/// `?include=a,b` on reads. Any other query parameter is refused.
pub struct Include(Vec<String>);

impl Include {
    /// Parses the query string against the relations the entity has.
    pub fn parse(query: &str, allowed: &[&str]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
        let mut names = Vec::new();
        for (key, value) in pairs {
            if key != "include" {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{key}`; reads accept only `include`"
                )));
            }
            for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if !allowed.contains(&name) {
                    let choices = if allowed.is_empty() {
                        "this entity has none".to_owned()
                    } else {
                        format!("allowed: {}", allowed.join(", "))
                    };
                    return Err(ApiError::bad_request(format!("cannot include `{name}`; {choices}")));
                }
                names.push(name.to_owned());
            }
        }
        Ok(Self(names))
    }

    /// Whether `name` was asked for.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|n| n == name)
    }
}

/// A JSON response. API responses may carry secrets returned once, so none is cached.
pub fn respond<T: Serialize>(status: u16, body: &T) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    HttpResponse::build(status).insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

/// An empty response.
pub fn respond_empty(status: u16) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
    HttpResponse::build(status).insert_header((header::CACHE_CONTROL, "no-store")).finish()
}

/// Fallback of a route for methods it does not serve: 405 with the `Allow` header RFC 9110
/// §15.5.6 requires, in the format of the family answering at that route.
pub fn method_not_allowed(req: &HttpRequest, allowed: &str, family: ErrorFamily) -> HttpResponse {
    family.render(req, &ApiError::method_not_allowed(allowed))
}

/// Fallback of the whole service: 404 in the format of the declared routes nearest the path
/// (`families`: see [`crate::family::for_unknown_path`]). No route took the path, so its page
/// names no tenant, even when routing got as far as a `{tenant}` scope before finding nothing.
pub fn not_found(req: &HttpRequest, families: &[(&str, ErrorFamily)]) -> HttpResponse {
    let family = crate::family::for_unknown_path(req.path(), families);
    family.render_for(None, &ApiError::not_found("route"))
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers.
pub async fn readyz(rt: web::Data<Runtime>) -> HttpResponse {
    if crate::db::ping(rt.db()).await {
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "status": "database unreachable" }))
    }
}

/// Mounts `/healthz` and `/readyz`.
pub fn configure_service(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz)).route("/readyz", web::get().to(readyz));
}
