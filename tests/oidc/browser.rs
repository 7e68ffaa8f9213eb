//! Just enough of a browser to sign in through Keygate's pages: a cookie jar, forms read from
//! the HTML, and redirects returned rather than followed, so each step can be checked.

use std::cell::RefCell;
use std::collections::BTreeMap;

/// A response as a browser would see it.
#[derive(Debug)]
pub struct Page {
    /// HTTP status.
    pub status: u16,
    /// `Location`, on redirects.
    pub location: Option<String>,
    /// `Content-Type`.
    pub content_type: String,
    /// All response headers, lowercased names.
    pub headers: BTreeMap<String, String>,
    /// The body as text.
    pub body: String,
}

impl Page {
    /// The value of the form input named `name` (HTML entities decoded).
    pub fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\"");
        let at = self.body.find(&marker)?;
        let tag_start = self.body[..at].rfind('<')?;
        let tag_end = at + self.body[at..].find('>')?;
        let tag = &self.body[tag_start..tag_end];
        let value_at = tag.find("value=\"")? + "value=\"".len();
        let value_end = value_at + tag[value_at..].find('"')?;
        Some(unescape(&tag[value_at..value_end]))
    }

    /// The `action` of the page's form.
    pub fn form_action(&self) -> String {
        let at = self.body.find("action=\"").expect("the page has a form") + "action=\"".len();
        let end = at + self.body[at..].find('"').unwrap();
        unescape(&self.body[at..end])
    }

    /// The query parameters of the redirect target.
    pub fn redirect_params(&self) -> BTreeMap<String, String> {
        let location = self.location.as_deref().expect("a redirect");
        let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }
}

/// Decodes the entities an HTML escaper writes: named (`&amp;`) and numeric (`&#38;`, `&#x26;`).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A browser with a cookie jar.
pub struct Browser {
    http: awc::Client,
    cookies: RefCell<BTreeMap<String, String>>,
}

impl Browser {
    /// A browser with no cookies.
    pub fn new() -> Self {
        Self { http: awc::Client::builder().disable_redirects().finish(), cookies: RefCell::default() }
    }

    /// A browser with no cookies that names itself `agent` (`User-Agent`).
    pub fn with_user_agent(agent: &str) -> Self {
        let http =
            awc::Client::builder().disable_redirects().add_default_header(("user-agent", agent.to_owned())).finish();
        Self { http, cookies: RefCell::default() }
    }

    /// Whether the jar holds a cookie named `name`.
    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.borrow().contains_key(name)
    }

    /// Forgets every cookie.
    pub fn clear_cookies(&self) {
        self.cookies.borrow_mut().clear();
    }

    /// Forgets one cookie.
    pub fn drop_cookie(&self, name: &str) {
        self.cookies.borrow_mut().remove(name);
    }

    /// GET `url`.
    pub async fn get(&self, url: &str) -> Page {
        let request = self.with_cookies(self.http.get(url));
        self.read(request.send().await.expect("GET")).await
    }

    /// POST a form to `url`.
    pub async fn post(&self, url: &str, fields: &[(&str, &str)]) -> Page {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (key, value) in fields {
            body.append_pair(key, value);
        }
        self.post_raw(url, "application/x-www-form-urlencoded", body.finish()).await
    }

    /// POST a raw body to `url`.
    pub async fn post_raw(&self, url: &str, content_type: &str, body: String) -> Page {
        let request = self.with_cookies(self.http.post(url)).insert_header(("content-type", content_type));
        self.read(request.send_body(body).await.expect("POST")).await
    }

    fn with_cookies(&self, request: awc::ClientRequest) -> awc::ClientRequest {
        let jar = self.cookies.borrow();
        if jar.is_empty() {
            return request;
        }
        let header = jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        request.insert_header(("cookie", header))
    }

    async fn read<S>(&self, mut response: awc::ClientResponse<S>) -> Page
    where
        S: futures_util::Stream<Item = Result<actix_web::web::Bytes, actix_http::error::PayloadError>> + Unpin,
    {
        let mut headers = BTreeMap::new();
        for (name, value) in response.headers() {
            let value = value.to_str().unwrap_or("").to_owned();
            if name.as_str() == "set-cookie" {
                let pair = value.split(';').next().unwrap_or("");
                let (cookie, content) = pair.split_once('=').unwrap_or((pair, ""));
                let expired = value.to_ascii_lowercase().contains("max-age=0");
                if expired || content.is_empty() {
                    self.cookies.borrow_mut().remove(cookie);
                } else {
                    self.cookies.borrow_mut().insert(cookie.to_owned(), content.to_owned());
                }
            }
            headers.entry(name.as_str().to_owned()).or_insert(value);
        }
        let body = response.body().limit(1 << 20).await.expect("body");
        Page {
            status: response.status().as_u16(),
            location: headers.get("location").cloned(),
            content_type: headers.get("content-type").cloned().unwrap_or_default(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}

/// Signs in and consents through the pages, starting at `authorize_url`; returns the redirect
/// to the client.
pub async fn sign_in(browser: &Browser, authorize_url: &str, username: &str, password: &str) -> Page {
    let login = browser.get(authorize_url).await;
    if login.status == 303 {
        // Already signed in and consented.
        return login;
    }
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(login.content_type.starts_with("text/html"), "{}", login.content_type);
    assert_eq!(login.headers["x-frame-options"], "DENY");
    assert_eq!(login.headers["cache-control"], "no-store");
    if login.body.contains("value=\"allow\"") {
        return consent(browser, &login, "allow").await;
    }
    assert!(login.body.contains("Sign in"), "{}", login.body);
    let fields = [
        ("csrf", login.input("csrf").expect("csrf field")),
        ("request", login.input("request").expect("request field")),
        ("username", username.to_owned()),
        ("password", password.to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signed_in = browser.post(&login.form_action(), &fields).await;
    if signed_in.status != 303 {
        return signed_in;
    }
    assert!(browser.has_cookie("kg_session"), "signing in sets the session cookie");
    let next = browser.get(signed_in.location.as_deref().unwrap()).await;
    if next.status != 200 {
        return next;
    }
    consent(browser, &next, "allow").await
}

/// Answers the consent page.
pub async fn consent(browser: &Browser, page: &Page, decision: &str) -> Page {
    assert!(page.body.contains("value=\"allow\""), "{}", page.body);
    let csrf = page.input("csrf").unwrap();
    let request = page.input("request").unwrap();
    browser
        .post(&page.form_action(), &[("csrf", csrf.as_str()), ("request", request.as_str()), ("decision", decision)])
        .await
}
