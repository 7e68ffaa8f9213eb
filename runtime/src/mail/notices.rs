//! The messages Keygate sends, one function each: what they say, in words a person reads.

use super::{Action, Notice};

const NOT_YOU: &str = "If this was not you, change your password now and contact your administrator.";

/// The link that verifies an email address; it works once, for `hours` hours.
pub fn verify_email(tenant: &str, url: String, hours: i64) -> Notice {
    Notice {
        tenant_name: tenant.to_owned(),
        heading: "Verify your email address".to_owned(),
        lines: vec![format!(
            "Follow the link below to confirm that this address belongs to your account. It works once, within {hours} hours."
        )],
        action: Some(Action { label: "Verify your email address".to_owned(), url }),
        closing: "If you did not ask for this, ignore this message: nothing changes.".to_owned(),
    }
}

/// The link to a page that sets a new password; it works once, for `minutes` minutes.
pub fn reset_password(tenant: &str, url: String, minutes: i64) -> Notice {
    Notice {
        tenant_name: tenant.to_owned(),
        heading: "Reset your password".to_owned(),
        lines: vec![format!(
            "Someone asked to reset the password of your account. Follow the link below to choose a new one. It works once, within {minutes} minutes."
        )],
        action: Some(Action { label: "Choose a new password".to_owned(), url }),
        closing: "If you did not ask for this, ignore this message: your password stays as it is.".to_owned(),
    }
}

/// The password was set through a reset link; every other sign-in ended.
pub fn password_was_reset(tenant: &str) -> Notice {
    Notice {
        tenant_name: tenant.to_owned(),
        heading: "Your password was reset".to_owned(),
        lines: vec![
            "The password of your account was just changed with a reset link, and every sign-in was ended.".to_owned(),
        ],
        action: None,
        closing: "If this was not you, contact your administrator now: someone can read your email.".to_owned(),
    }
}

/// Sent to the old address: the account's email is now `new_email`.
pub fn email_changed(tenant: &str, new_email: &str) -> Notice {
    Notice {
        tenant_name: tenant.to_owned(),
        heading: "Your email address was changed".to_owned(),
        lines: vec![format!(
            "The email address of your account was changed to {new_email}. Messages about your account now go there."
        )],
        action: None,
        closing: NOT_YOU.to_owned(),
    }
}

/// A sign-in from a device not seen before.
pub fn new_device(tenant: &str, user_agent: Option<&str>, ip: Option<&str>, when: &str) -> Notice {
    Notice {
        tenant_name: tenant.to_owned(),
        heading: "New sign-in to your account".to_owned(),
        lines: vec![
            format!("Your account was signed in to from a new device at {when} (UTC)."),
            format!("Device: {}", user_agent.unwrap_or("unknown")),
            format!("IP address: {}", ip.unwrap_or("unknown")),
        ],
        action: None,
        closing: NOT_YOU.to_owned(),
    }
}
