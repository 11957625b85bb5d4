//! One plain-HTTP request on its own connection, for the emulator's loopback endpoints that no AWS SDK client
//! covers: the webhook, a cluster's Kubernetes API, the Pod Identity Agent.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum HttpError {
    #[error("{url} is not an http:// URL")]
    NotHttp { url: String },
    #[error("cannot reach {url}: {message}")]
    Unreachable { url: String, message: String },
}

/// A response: status and body (as text, lossily).
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends `method url` with `headers` and `body`, and reads the whole answer.
pub async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Result<Answer, HttpError> {
    let uri: hyper::Uri = url.parse().map_err(|_| HttpError::NotHttp { url: url.to_owned() })?;
    let (Some("http"), Some(authority)) = (uri.scheme_str(), uri.authority().cloned()) else {
        return Err(HttpError::NotHttp { url: url.to_owned() });
    };
    let unreachable = |message: String| HttpError::Unreachable {
        url: url.to_owned(),
        message,
    };
    let address = format!(
        "{}:{}",
        authority.host().trim_matches(['[', ']']),
        authority.port_u16().unwrap_or(80)
    );
    let stream = tokio::net::TcpStream::connect(&address)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(uri.path_and_query().map_or("/", |pq| pq.as_str()))
        .header("host", authority.as_str());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| unreachable(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| unreachable(e.to_string()))?
        .to_bytes();
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
