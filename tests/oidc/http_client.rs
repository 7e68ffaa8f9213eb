//! The `openidconnect` crate's HTTP client, implemented over awc so the relying party talks to
//! the server over real loopback HTTP like any other client.

use std::future::Future;
use std::pin::Pin;

/// What `openidconnect` calls to send a request.
pub type Send = Box<
    dyn Fn(
        openidconnect::HttpRequest,
    ) -> Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, std::io::Error>>>>,
>;

/// An HTTP client for `openidconnect` that does not follow redirects (as its docs require).
pub fn client() -> Send {
    let http = awc::Client::builder().disable_redirects().finish();
    Box::new(move |request: openidconnect::HttpRequest| {
        let http = http.clone();
        Box::pin(async move {
            let failed = |e: String| std::io::Error::other(e);
            let method = awc::http::Method::from_bytes(request.method().as_str().as_bytes()).unwrap();
            let mut outgoing = http.request(method, request.uri().to_string());
            for (name, value) in request.headers() {
                outgoing = outgoing.insert_header((name.as_str(), value.to_str().unwrap_or("")));
            }
            let mut response = outgoing.send_body(request.body().clone()).await.map_err(|e| failed(e.to_string()))?;
            let body = response.body().limit(1 << 20).await.map_err(|e| failed(e.to_string()))?;
            let mut builder = http::Response::builder().status(response.status().as_u16());
            for (name, value) in response.headers() {
                builder = builder.header(name.as_str(), value.as_bytes());
            }
            builder.body(body.to_vec()).map_err(|e| failed(e.to_string()))
        })
    })
}
