//! Form-encoded protocol requests (RFC 6749 §3.2: `application/x-www-form-urlencoded`, and
//! parameters "MUST NOT be included more than once").

use actix_web::http::header;

use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;

/// The parameters of a form-encoded request.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Parses the request body; wrong content type, bad encoding or a repeated parameter is an
    /// `invalid_request`.
    pub fn parse(ctx: &EndpointCtx<'_>) -> Result<Self, ApiError> {
        let content_type = ctx
            .request()
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        if content_type.as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(ApiError::invalid_request("send parameters as application/x-www-form-urlencoded"));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(ctx.body())
            .map_err(|_| ApiError::invalid_request("the body is not form-encoded"))?;
        for (index, (key, _)) in pairs.iter().enumerate() {
            if pairs[..index].iter().any(|(earlier, _)| earlier == key) {
                return Err(ApiError::invalid_request(format!("parameter `{key}` is repeated")));
            }
        }
        Ok(Self(pairs))
    }

    /// A parameter; empty values count as absent (RFC 6749 §3.1).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// A required parameter.
    pub fn require(&self, key: &str) -> Result<&str, ApiError> {
        self.get(key).ok_or_else(|| ApiError::invalid_request(format!("missing `{key}`")))
    }
}
