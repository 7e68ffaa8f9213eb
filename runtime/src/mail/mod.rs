//! Outgoing mail: verification links, password reset links and security notices, rendered from
//! askama templates (`templates/mail/notice.txt` and `.html`, one `multipart/alternative`
//! message) and sent over SMTP with lettre.
//!
//! Sending never holds a write transaction and never undoes what was committed: callers commit
//! first, then hand the message to [`Mailer::send`], which delivers it on a background task and
//! logs a failure. Without SMTP configured (`--smtp-url`), every message is written to the log
//! at `warn` with a line saying it was not sent, never silently dropped.

use std::time::Duration;

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub mod notices;

/// How long one delivery may take (connect, TLS, SMTP dialogue).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// A button in a message: what it says and where it leads.
#[derive(Debug, Clone)]
pub struct Action {
    /// The button's text, e.g. `Verify your email address`.
    pub label: String,
    /// The absolute URL.
    pub url: String,
}

/// One message's content: a heading, paragraphs, an optional link, a closing line.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The tenant's display name, in the header and signature.
    pub tenant_name: String,
    /// The subject, also the heading.
    pub heading: String,
    /// Paragraphs of plain text (escaped in the HTML part).
    pub lines: Vec<String>,
    /// The link to follow, if any.
    pub action: Option<Action>,
    /// The last paragraph (what to do if this was not you).
    pub closing: String,
}

#[derive(Template)]
#[template(path = "mail/notice.txt")]
struct NoticeText<'a> {
    tenant_name: &'a str,
    heading: &'a str,
    lines: &'a [String],
    action: &'a Option<Action>,
    closing: &'a str,
}

#[derive(Template)]
#[template(path = "mail/notice.html")]
struct NoticeHtml<'a> {
    tenant_name: &'a str,
    heading: &'a str,
    lines: &'a [String],
    action: &'a Option<Action>,
    closing: &'a str,
}

impl Notice {
    /// The plain-text and HTML renderings.
    fn render(&self) -> Result<(String, String), askama::Error> {
        let text = NoticeText {
            tenant_name: &self.tenant_name,
            heading: &self.heading,
            lines: &self.lines,
            action: &self.action,
            closing: &self.closing,
        };
        let html = NoticeHtml {
            tenant_name: &self.tenant_name,
            heading: &self.heading,
            lines: &self.lines,
            action: &self.action,
            closing: &self.closing,
        };
        Ok((text.render()?, html.render()?))
    }
}

/// Where messages go: an SMTP server, or the log.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let to = if self.transport.is_some() { "smtp" } else { "log" };
        write!(f, "Mailer({to}, from {})", self.from)
    }
}

impl Default for Mailer {
    fn default() -> Self {
        Self::log_only("Keygate <keygate@localhost>").expect("a valid built-in address")
    }
}

impl Mailer {
    /// A mailer that writes every message to the log (no SMTP configured), sender `from`
    /// (`Name <address>` or `address`). Errors: `from` is not an address.
    pub fn log_only(from: &str) -> Result<Self, String> {
        Ok(Self { transport: None, from: mailbox(from)? })
    }

    /// A mailer sending through the SMTP server at `url`: `smtps://host[:465]` (TLS),
    /// `smtp://host:587?tls=required` (STARTTLS), or `smtp://host:25` (plain, for a local relay),
    /// with optional `user:password@` (lettre's URL format). Connects lazily. Errors: a URL or
    /// `from` address lettre cannot use.
    pub fn smtp(url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| format!("invalid SMTP URL: {error}"))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        Ok(Self { transport: Some(transport), from: mailbox(from)? })
    }

    /// Whether messages go to an SMTP server (not only to the log).
    pub fn is_configured(&self) -> bool {
        self.transport.is_some()
    }

    /// Renders `notice` and delivers it to `to` on a background task; returns at once. A message
    /// that cannot be rendered, addressed or delivered is logged at `error` (the action it
    /// reports stands). Without SMTP, the message is logged at `warn` instead of sent.
    pub fn send(&self, to: &str, notice: &Notice) {
        let (text, html) = match notice.render() {
            Ok(parts) => parts,
            Err(error) => return tracing::error!(%error, subject = %notice.heading, "cannot render a mail message"),
        };
        let Some(transport) = self.transport.clone() else {
            tracing::warn!(
                to,
                subject = %notice.heading,
                body = %text,
                "SMTP is not configured (--smtp-url): this message was NOT sent, only logged"
            );
            return;
        };
        let message = match mailbox(to).and_then(|to| {
            Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(notice.heading.clone())
                .multipart(MultiPart::alternative_plain_html(text, html))
                .map_err(|error| error.to_string())
        }) {
            Ok(message) => message,
            Err(error) => return tracing::error!(to, %error, "cannot build a mail message"),
        };
        let to = to.to_owned();
        let subject = notice.heading.clone();
        tokio::spawn(async move {
            match transport.send(message).await {
                Ok(_) => tracing::info!(to, subject, "mail sent"),
                Err(error) => tracing::error!(to, subject, %error, "mail delivery failed"),
            }
        });
    }
}

fn mailbox(address: &str) -> Result<Mailbox, String> {
    address.parse::<Mailbox>().map_err(|error| format!("`{address}` is not a mail address: {error}"))
}
