//! One HTTP/1.1 request per connection (`Connection: close`), written by hand: for tests of what a server does with
//! exactly these bytes (the agent's credentials endpoint, the local Lambda Invoke API).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// GET `path` at `address` (host:port), with an Authorization header when given.
pub async fn get(address: &str, path: &str, authorization: Option<&str>) -> std::io::Result<Response> {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(value) = authorization {
        request.push_str(&format!("Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    exchange(address, &request).await
}

/// POST a JSON `body` to `path` at `address` (host:port).
pub async fn post_json(address: &str, path: &str, body: &str) -> std::io::Result<Response> {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    exchange(address, &request).await
}

async fn exchange(address: &str, request: &str) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let malformed = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP/1.1 response");
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(malformed)?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(malformed)?;
    Ok(Response {
        status,
        body: body.to_owned(),
    })
}
