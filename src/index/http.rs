//! The one HTTP client of mlcompat, used by `refresh` only (never by `check`): GET with a
//! User-Agent naming mlcompat, connect and whole-request timeouts, a capped body, and one retry
//! after a transport error or a server error.

use std::time::Duration;

/// How long one request may take, start to end (torch's JSON page is a few megabytes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The wait before the single retry.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// A package page in JSON first, HTML as the fallback (PEP 691's content negotiation).
pub const ACCEPT_PAGE: &str = "application/vnd.pypi.simple.v1+json, \
                               application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// What a GET brought back.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status; only a 200 has a body.
    pub status: u16,
    /// `Content-Type`, lower-cased: decides between the JSON and the HTML page.
    pub content_type: String,
    /// The body, at most the limit asked for.
    pub body: String,
}

/// What a GET of a byte range brought back.
#[derive(Debug)]
pub struct RangeResponse {
    /// 206 when the server honoured the range.
    pub status: u16,
    /// Where the bytes start in the whole file (from `Content-Range`).
    pub start: Option<u64>,
    /// The bytes, at most the limit asked for.
    pub body: Vec<u8>,
}

/// `bytes 100-199/1000` → 100.
pub fn content_range_start(header: &str) -> Option<u64> {
    header
        .trim()
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Why a GET brought nothing back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// No answer: no route, refused, timed out, or TLS failed.
    #[error("cannot reach {url}: {message}")]
    Unreachable {
        /// The URL asked for.
        url: String,
        /// What the client said (no route, refused, timed out, TLS, ...).
        message: String,
    },
    /// The answer was bigger than the cap.
    #[error("{url} answered with more than {limit} bytes")]
    TooBig {
        /// The URL asked for.
        url: String,
        /// The cap, in bytes.
        limit: u64,
    },
}

/// Something that can GET a URL: the real client, or a stand-in in tests.
pub trait Fetch {
    /// GET `url` with this `Accept` header, reading at most `limit` bytes of body.
    fn get(&mut self, url: &str, accept: &str, limit: u64) -> Result<Response, HttpError>;
    /// GET with a `Range` header (`bytes=-65536`, `bytes=100-199`); at most `limit` bytes.
    fn get_range(&mut self, url: &str, range: &str, limit: u64)
    -> Result<RangeResponse, HttpError>;
    /// How many requests were sent, retries included.
    fn requests(&self) -> usize;
}

/// The real client: ureq with rustls.
pub struct Client {
    agent: ureq::Agent,
    requests: usize,
    /// A pause before each request, to be polite to the index.
    pub delay: Duration,
}

impl Client {
    /// A client with the timeouts above, the platform's certificate store, and no delay.
    pub fn new() -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(REQUEST_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .http_status_as_error(false)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .user_agent(concat!(
                "mlcompat/",
                env!("CARGO_PKG_VERSION"),
                " (refresh)"
            ))
            .build()
            .into();
        Client {
            agent,
            requests: 0,
            delay: Duration::ZERO,
        }
    }

    /// Waits the delay between requests, and counts this one.
    fn pace(&mut self) {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        self.requests += 1;
    }

    fn once(&mut self, url: &str, accept: &str, limit: u64) -> Result<Response, HttpError> {
        self.pace();
        let unreachable = |e: ureq::Error| http_error(e, url, limit);
        let mut response = self
            .agent
            .get(url)
            .header("Accept", accept)
            .call()
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = if status == 200 {
            response
                .body_mut()
                .with_config()
                .limit(limit)
                .read_to_string()
                .map_err(unreachable)?
        } else {
            String::new()
        };
        Ok(Response {
            status,
            content_type,
            body,
        })
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Fetch for Client {
    fn get(&mut self, url: &str, accept: &str, limit: u64) -> Result<Response, HttpError> {
        match self.once(url, accept, limit) {
            Ok(response) if response.status < 500 => Ok(response),
            Err(too_big @ HttpError::TooBig { .. }) => Err(too_big),
            _ => {
                std::thread::sleep(RETRY_AFTER);
                self.once(url, accept, limit)
            }
        }
    }

    fn get_range(
        &mut self,
        url: &str,
        range: &str,
        limit: u64,
    ) -> Result<RangeResponse, HttpError> {
        self.pace();
        let failed = |e: ureq::Error| http_error(e, url, limit);
        let mut response = self
            .agent
            .get(url)
            .header("Range", range)
            .header("Accept-Encoding", "identity")
            .call()
            .map_err(failed)?;
        let status = response.status().as_u16();
        let start = response
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .and_then(content_range_start);
        // A server that ignores the range would send the whole wheel: read none of it.
        let body = if status == 206 {
            response
                .body_mut()
                .with_config()
                .limit(limit)
                .read_to_vec()
                .map_err(failed)?
        } else {
            Vec::new()
        };
        Ok(RangeResponse {
            status,
            start,
            body,
        })
    }

    fn requests(&self) -> usize {
        self.requests
    }
}

/// A failed request as the error a person reads: too big, or unreachable with why.
fn http_error(error: ureq::Error, url: &str, limit: u64) -> HttpError {
    match error {
        ureq::Error::BodyExceedsLimit(_) => HttpError::TooBig {
            url: url.to_string(),
            limit,
        },
        other => HttpError::Unreachable {
            url: url.to_string(),
            message: other.to_string(),
        },
    }
}
