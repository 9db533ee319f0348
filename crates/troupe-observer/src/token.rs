//! The bearer token that actions need.

use std::sync::Arc;

use axum::http::{header, HeaderMap};

/// A bearer token, compared in constant time.
#[derive(Clone)]
pub(crate) struct Token(Arc<[u8]>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    pub(crate) fn new(token: &str) -> Self {
        Self(Arc::from(token.as_bytes()))
    }

    /// Whether `headers` carry this token as `Authorization: Bearer ..`.
    pub(crate) fn accepts(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return false;
        };
        let Some(given) = value.as_bytes().strip_prefix(b"Bearer ") else {
            return false;
        };
        // Constant time in the token's contents: every byte is compared.
        given.len() == self.0.len()
            && given
                .iter()
                .zip(self.0.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn bearer(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        let token = Token::new("0123456789abcdef");
        assert!(token.accepts(&bearer("Bearer 0123456789abcdef")));
        assert!(!token.accepts(&bearer("Bearer 0123456789abcdeX")));
        assert!(!token.accepts(&bearer("Bearer 0123456789abcdef0")));
        assert!(!token.accepts(&bearer("Bearer 0123456789abcde")));
        assert!(!token.accepts(&bearer("0123456789abcdef")));
        assert!(!token.accepts(&bearer("Basic 0123456789abcdef")));
        assert!(!token.accepts(&HeaderMap::new()));
    }
}
