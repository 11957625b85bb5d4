//! The provider's HTTPS client trusts the roots of Amazon Trust Services it carries, and verifies: an endpoint whose
//! certificate no such root issued is refused (a self-signed one here, on loopback), and the carried roots parse
//! (the client builds its connector from them for this very call).

use std::sync::Arc;

use aws_sdk_eks::error::DisplayErrorContext;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

#[tokio::test]
async fn an_endpoint_no_amazon_root_vouches_for_is_refused() {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let served = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            // The handshake must fail on the client's side; were it accepted, answer so the call would succeed.
            if let Ok(mut stream) = acceptor.accept(socket).await {
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"clusters\":[]}")
                    .await;
            }
        }
    });

    let base = pia_provider::eks_client::base_config_for(Some(format!("https://{address}"))).await;
    let eks = aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::config::Builder::from(&base)
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .build(),
    );
    let refused = eks.list_clusters().send().await.unwrap_err();
    served.abort();
    let reason = DisplayErrorContext(&refused).to_string();
    assert!(
        reason.contains("invalid peer certificate") && reason.contains("UnknownIssuer"),
        "{reason}"
    );
}
