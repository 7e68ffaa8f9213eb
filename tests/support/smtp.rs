//! A small SMTP server for tests: accepts on 127.0.0.1:0, answers the dialogue lettre speaks
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no auth) and keeps every message, so
//! tests read the real mail Keygate sent and follow the links in it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One received message.
#[derive(Debug, Clone)]
pub struct Mail {
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The message as sent (headers and MIME body), dot-unstuffed.
    pub data: String,
}

/// The running sink.
#[derive(Clone)]
pub struct MailSink {
    /// Where it listens.
    pub addr: SocketAddr,
    messages: Arc<Mutex<Vec<Mail>>>,
}

impl MailSink {
    /// Starts listening on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the SMTP sink");
        let sink = Self { addr: listener.local_addr().expect("address"), messages: Arc::default() };
        let messages = sink.messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let messages = messages.clone();
                tokio::spawn(async move {
                    let _ = session(stream, messages).await;
                });
            }
        });
        sink
    }

    /// `smtp://127.0.0.1:PORT`, for `Mailer::smtp`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message received so far.
    pub fn all(&self) -> Vec<Mail> {
        self.messages.lock().unwrap().clone()
    }

    /// The messages to `to`, once there are at least `count` (waiting up to 10 s).
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<Mail> {
        for _ in 0..200 {
            let found = self.to(to);
            if found.len() >= count {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} message(s) to {to}; the sink holds {:#?}", self.all());
    }

    /// The messages to `to` received so far.
    pub fn to(&self, to: &str) -> Vec<Mail> {
        self.all().into_iter().filter(|mail| mail.to.iter().any(|r| r == to)).collect()
    }
}

async fn session(stream: tokio::net::TcpStream, messages: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP test sink\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if command.starts_with("HELO") || command.starts_with("MAIL FROM") || command == "NOOP" {
            b"250 OK\r\n"
        } else if command.starts_with("RSET") {
            to.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO:") {
            let address = line.trim_end()[8..].trim().trim_start_matches('<').split('>').next().unwrap_or("");
            to.push(address.to_owned());
            b"250 OK\r\n"
        } else if command == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            messages.lock().unwrap().push(Mail { to: std::mem::take(&mut to), data });
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

impl Mail {
    /// The decoded `Subject` header (lettre writes ASCII subjects as they are).
    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The value of header `name` of the message (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    }

    /// The decoded body of the MIME part with content type `mime` (`text/plain`, `text/html`).
    pub fn part(&self, mime: &str) -> String {
        let start = self
            .data
            .find(&format!("Content-Type: {mime}"))
            .unwrap_or_else(|| panic!("no {mime} part in {}", self.data));
        let part = &self.data[start..];
        let (headers, rest) = part.split_once("\r\n\r\n").expect("part headers end");
        // A part ends at its multipart boundary (RFC 2046 §5.1.1), not at any line that begins
        // with `--`: a quoted-printable soft break can put `--` of a token at a line's start.
        let delimiter = format!("\r\n--{}", self.boundary());
        let body = rest.split(delimiter.as_str()).next().unwrap_or(rest);
        let encoding = headers
            .lines()
            .find_map(|l| l.strip_prefix("Content-Transfer-Encoding:"))
            .map(|e| e.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match encoding.as_str() {
            "quoted-printable" => quoted_printable(body),
            "base64" => {
                let compact: String = body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD.decode(compact).expect("base64 part");
                String::from_utf8(bytes).expect("utf-8 part")
            }
            _ => body.to_owned(),
        }
    }

    /// The `boundary` parameter of the message's multipart `Content-Type`.
    fn boundary(&self) -> String {
        let content_type = self.header("Content-Type").unwrap_or_else(|| panic!("no Content-Type in {}", self.data));
        let (_, rest) =
            content_type.split_once("boundary=").unwrap_or_else(|| panic!("not a multipart message: {content_type}"));
        rest.split(';').next().unwrap_or(rest).trim().trim_matches('"').to_owned()
    }

    /// The plain-text body.
    pub fn text(&self) -> String {
        self.part("text/plain")
    }

    /// The first URL in the plain-text body containing `fragment`.
    pub fn link(&self, fragment: &str) -> String {
        let text = self.text();
        text.split_whitespace()
            .find(|word| word.starts_with("http") && word.contains(fragment))
            .unwrap_or_else(|| panic!("no link with {fragment} in {text}"))
            .to_owned()
    }
}

/// RFC 2045 §6.7 quoted-printable: soft line breaks removed, `=XX` decoded.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(value) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(value);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8 text")
}
