//! OpenID Connect on top of [`crate::oauth`]: ID tokens, UserInfo, discovery and logout.

pub mod discovery;
pub mod id_token;
pub mod logout;
pub mod userinfo;
